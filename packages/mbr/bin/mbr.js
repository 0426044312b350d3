#!/usr/bin/env node
import { runMain } from "@bigfile/blockdev/cli-kit";
import { main } from "../dist/cli.js";

runMain(main);
