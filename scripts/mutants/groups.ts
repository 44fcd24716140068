/** Every group of mutants, by name (`node build/scripts/mutants.js --group NAME`). */

import type { Mutant } from "./mutant.ts";
import { mutants as adapters } from "./adapters.ts";
import { mutants as batons } from "./batons.ts";
import { mutants as protocols } from "./protocols.ts";
import { mutants as toolkit } from "./toolkit.ts";

export const groups: Record<string, Mutant[]> = { protocols, batons, toolkit, adapters };
