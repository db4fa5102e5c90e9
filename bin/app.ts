#!/usr/bin/env node
import { buildApp } from '../lib/app';
import { ConfigError } from '../lib/config';

try {
  buildApp().app.synth();
} catch (error) {
  // A configuration mistake is the user's to fix: one clear message, no stack trace. Anything else is a bug.
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
