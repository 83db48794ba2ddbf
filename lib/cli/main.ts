/**
 * The `netlite` command: `info`, `classify`, `bench`, `serve`. Errors print as one line
 * (`netlite classify: ...`) with exit code 1, or 2 for a mistake in the command line.
 * Set NETLITE_DEBUG=1 to print the stack too.
 * @packageDocumentation
 * @internal
 */
import * as fs from 'fs';
import * as path from 'path';

import { NetliteError } from '../errors';
import { packageRoot } from '../native';
import { Command, CliIo, UsageError, helpText, parseArgs } from './args';
import { benchCommand } from './bench';
import { classifyCommand } from './classify';
import { infoCommand } from './info';
import { serveCommand } from './serve';

/** Every command, in help order. */
export const commands: readonly Command[] = [infoCommand, classifyCommand, benchCommand, serveCommand];

function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function mainHelp(program: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `Usage: ${program} <command> [options]`,
    '',
    'netlite: deep-learning inference in a single C++ file. Commands:',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    `Run '${program} <command> --help' for a command's options. '${program} --version' prints the version.`,
    '',
  ].join('\n');
}

/** One readable line for an error. */
function describeError(e: unknown): string {
  if (e instanceof NetliteError) {
    // The addon-loading error is several lines of advice: keep its first line and the first fix.
    return e.message.split('\n')[0];
  }
  if (e instanceof Error) {
    const first = e.message.split('\n')[0];
    return first.includes('cannot load the native addon') ? `${first} Fix: npm rebuild netlite (NETLITE_DEBUG=1 for details)` : first;
  }
  return String(e);
}

/**
 * Runs the CLI with `argv` (the arguments after `netlite`).
 * @returns the exit code
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(target ? helpText(io.program, target) : mainHelp(io.program));
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`${io.program}: unknown command '${name}'; commands are ${commands.map((c) => c.name).join(', ')} (see ${io.program} --help)\n`);
    return 2;
  }
  try {
    const args = parseArgs(rest, command);
    if (args.options.help) {
      io.stdout.write(helpText(io.program, command, Math.max(60, Math.min(120, io.stdout.columns ?? 100))));
      return 0;
    }
    return await command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`${io.program} ${command.name}: ${e.message} (see ${io.program} ${command.name} --help)\n`);
      return 2;
    }
    if (process.env.NETLITE_DEBUG) io.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    io.stderr.write(`${io.program} ${command.name}: ${describeError(e)}\n`);
    return 1;
  }
}

/** Entry point of bin/netlite.js: runs with process.argv and sets the exit code. */
export function runFromProcess(): void {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, program: 'netlite' };
  // A closed pipe (`netlite classify ... | head`) ends quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      io.stderr.write(`netlite: ${describeError(e)}\n`);
      process.exitCode = 1;
    },
  );
}
