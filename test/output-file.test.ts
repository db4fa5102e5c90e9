import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../cli/errors';
import { write } from '../cli/output';
import { checkOutputPath, writeAtomically } from '../cli/output-file';

describe('Module: output-file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-output-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('Function: checkOutputPath', () => {
    it('accepts a new or existing file in an existing directory', () => {
      // Prepare
      writeFileSync(join(dir, 'old.csv'), 'x');

      // Act / Assess
      expect(() => checkOutputPath(join(dir, 'new.csv'), '--output')).not.toThrow();
      expect(() => checkOutputPath(join(dir, 'old.csv'), '--output')).not.toThrow();
    });

    it('refuses a missing directory, a directory, a file used as a directory and an empty name, naming the option', () => {
      // Prepare
      writeFileSync(join(dir, 'file'), 'x');
      const missing = join(dir, 'missing', 'x.csv');
      const under = join(dir, 'file', 'x.csv');

      // Act
      const errors = [missing, dir, under, ' '].map((path) => {
        try {
          checkOutputPath(path, '--output');
          return undefined;
        } catch (error) {
          return error as UsageError;
        }
      });

      // Assess
      expect(errors.every((e) => e instanceof UsageError)).toBe(true);
      expect(errors.map((e) => e?.message)).toEqual([
        `--output ${JSON.stringify(missing)}: the directory ${JSON.stringify(join(dir, 'missing'))} does not exist`,
        `--output ${JSON.stringify(dir)} is a directory; name a file in it`,
        `--output ${JSON.stringify(under)} cannot be written (ENOTDIR)`,
        '--output must name a file, got ""',
      ]);
    });
  });

  describe('Function: writeAtomically', () => {
    it('replaces the file only once everything is written, and leaves no partial file', async () => {
      // Prepare
      const path = join(dir, 'export.csv');
      writeFileSync(path, 'old\n');

      // Act
      const result = await writeAtomically(path, '--output', async (sink) => {
        await write(sink, 'a@x.example,BOUNCE\n');
        expect(readFileSync(path, 'utf8')).toBe('old\n');
        return 1;
      });

      // Assess
      expect(result).toBe(1);
      expect(readFileSync(path, 'utf8')).toBe('a@x.example,BOUNCE\n');
      expect(readdirSync(dir)).toEqual(['export.csv']);
    });

    it('removes the partial file and keeps the old one when the work fails midway, passing its error on', async () => {
      // Prepare
      const path = join(dir, 'export.csv');
      writeFileSync(path, 'old\n');
      const scanFailed = new Error('scan failed on page 2');

      // Act
      const run = writeAtomically(path, '--output', async (sink) => {
        await write(sink, 'a@x.example,BOUNCE\n'.repeat(10_000));
        throw scanFailed;
      });

      // Assess
      await expect(run).rejects.toBe(scanFailed);
      expect(readdirSync(dir)).toEqual(['export.csv']);
      expect(readFileSync(path, 'utf8')).toBe('old\n');
    });

    it('is a usage error naming the option when the file cannot be created, and writes nothing', async () => {
      // Prepare
      const path = join(dir, 'missing', 'x.csv');
      let called = false;

      // Act
      const run = writeAtomically(path, '--output', async () => {
        called = true;
      });

      // Assess
      await expect(run).rejects.toThrow(`--output ${JSON.stringify(path)} cannot be written (ENOENT)`);
      expect(called).toBe(false);
      expect(existsSync(join(dir, 'missing'))).toBe(false);
    });
  });
});
