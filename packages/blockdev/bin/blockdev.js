#!/usr/bin/env node
import { runMain } from "../dist/cli_kit/mod.js";
import { main } from "../dist/cli.js";

runMain(main);
