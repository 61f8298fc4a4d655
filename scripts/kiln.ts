#!/usr/bin/env node
import { KILN_VERSION } from '../shared/version.js';
console.log(KILN_VERSION);
