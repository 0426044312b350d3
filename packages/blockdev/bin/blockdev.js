#!/usr/bin/env node
import { main } from "../dist/cli.js";
import { runMain } from "../dist/cli_kit/mod.js";

runMain(main);
