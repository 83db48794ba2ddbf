/**
 * Command-line parsing for the `netlite` CLI, with no dependency: long options (`--top 5`,
 * `--top=5`), short aliases (`-k 5`), boolean flags and their `--no-` form, comma lists,
 * positionals, `--` to end options; and the help text of each command, made from the same spec.
 * @packageDocumentation
 * @internal
 */

/** The kinds of value an option takes. `list` is comma-separated and may be repeated. */
export type OptionType = 'boolean' | 'string' | 'integer' | 'number' | 'list';

/** One option of a command. */
export interface OptionSpec {
  /** Long name, without `--`. */
  readonly name: string;
  /** One-letter alias, without `-`. */
  readonly short?: string;
  readonly type: OptionType;
  /** Placeholder in the help (`FILE`, `N`). */
  readonly value?: string;
  readonly description: string;
  /** Allowed values (string options). */
  readonly choices?: readonly string[];
  /** Smallest value (integer and number options, and each item of a numeric list). */
  readonly min?: number;
  /** A list of numbers: `true` integers, `false` any numbers; absent, a list of strings. */
  readonly integers?: boolean;
}

/** A subcommand: its spec and what it runs. */
export interface Command {
  readonly name: string;
  /** One line, for `netlite --help`. */
  readonly summary: string;
  /** The usage line after `netlite <name> `, e.g. `<model> [options]`. */
  readonly usage: string;
  /** Paragraphs after the usage line. */
  readonly description?: string;
  readonly options: readonly OptionSpec[];
  /** Least and most positionals (default 1 and 1). */
  readonly positionals?: { readonly min: number; readonly max: number };
  readonly examples?: readonly string[];
  /** Runs the command; resolves to the exit code. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** Where a command writes (process streams, or buffers in tests). */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** The program name in messages, `netlite`. */
  readonly program: string;
}

/** Parsed options by long name (absent when not given) and positionals in order. */
export interface ParsedArgs {
  readonly options: Readonly<Record<string, string | number | boolean | readonly (string | number)[]>>;
  readonly positionals: readonly string[];
}

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** The option names closest to `name` (edit distance ≤ 2), for "did you mean". */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function convert(spec: OptionSpec, raw: string): string | number {
  const flag = `--${spec.name}`;
  if (spec.type === 'integer' || spec.type === 'number' || (spec.type === 'list' && spec.integers !== undefined)) {
    const wantInt = spec.type === 'integer' || spec.integers === true;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || (wantInt && !Number.isSafeInteger(v))) {
      throw new UsageError(`${flag} expects ${wantInt ? 'an integer' : 'a number'} but received '${raw}'`);
    }
    if (spec.min !== undefined && v < spec.min) throw new UsageError(`${flag} must be at least ${spec.min} but received ${raw}`);
    return v;
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new UsageError(`${flag} expects one of ${spec.choices.join(', ')} but received '${raw}'`);
  }
  return raw;
}

/**
 * Parses `argv` (the arguments after the command name) against a command's options.
 * `--help`/`-h` is always accepted and reported as `options.help`.
 * @throws UsageError for an unknown option, a missing or bad value, or a wrong number of positionals
 */
export function parseArgs(argv: readonly string[], command: Pick<Command, 'options' | 'positionals'>): ParsedArgs {
  const specs = [...command.options, { name: 'help', short: 'h', type: 'boolean', description: '' } as OptionSpec];
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const options: Record<string, string | number | boolean | (string | number)[]> = {};
  const positionals: string[] = [];
  const set = (spec: OptionSpec, raw: string | undefined, negated: boolean): void => {
    if (spec.type === 'boolean') {
      options[spec.name] = !negated;
      return;
    }
    if (raw === undefined) throw new UsageError(`--${spec.name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
    if (spec.type === 'list') {
      const list = (options[spec.name] as (string | number)[] | undefined) ?? [];
      for (const item of raw.split(',')) {
        if (item.trim() === '') throw new UsageError(`--${spec.name} has an empty item in '${raw}'`);
        list.push(convert(spec, item.trim()));
      }
      options[spec.name] = list;
    } else {
      options[spec.name] = convert(spec, raw);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      let spec = byName.get(name);
      let negated = false;
      if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
        name = name.slice(3);
        spec = byName.get(name);
        negated = true;
      }
      if (!spec) {
        const hint = closest(name, [...byName.keys()]);
        throw new UsageError(`unknown option --${name}${hint ? ` (did you mean --${hint}?)` : ''}`);
      }
      if (spec.type === 'boolean') {
        if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
        set(spec, undefined, negated);
      } else if (inline !== undefined) {
        set(spec, inline, false);
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
        set(spec, argv[++i], false);
      }
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      const letter = arg[1];
      const spec = byShort.get(letter);
      if (!spec) throw new UsageError(`unknown option -${letter}`);
      if (spec.type === 'boolean') {
        if (arg.length > 2) throw new UsageError(`-${letter} takes no value`);
        set(spec, undefined, false);
      } else if (arg.length > 2) {
        set(spec, arg.slice(2), false);
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`-${letter} needs a value${spec.value ? ` (${spec.value})` : ''}`);
        set(spec, argv[++i], false);
      }
    } else {
      positionals.push(arg);
    }
  }
  if (!options.help) {
    const { min, max } = command.positionals ?? { min: 1, max: 1 };
    if (positionals.length < min) throw new UsageError(min === 1 ? 'missing the model file' : `expected at least ${min} arguments`);
    if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
  }
  return { options, positionals };
}

function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width - indent) {
      lines.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** The `--help` text of a command. */
export function helpText(program: string, command: Command, width = 100): string {
  const out: string[] = [`Usage: ${program} ${command.name} ${command.usage}`, '', command.summary];
  if (command.description) out.push('', wrap(command.description, width, 0));
  const rows = [...command.options, { name: 'help', short: 'h', type: 'boolean', description: 'Show this help' } as OptionSpec].map((o) => {
    const value = o.type === 'boolean' ? '' : ` ${o.value ?? (o.type === 'integer' || o.type === 'number' ? 'N' : 'VALUE')}`;
    const left = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${value}`;
    const listed = o.choices && o.choices.every((c) => o.description.includes(c));
    return [left, o.description + (o.choices && !listed ? ` (${o.choices.join(', ')})` : '')];
  });
  const pad = Math.min(30, Math.max(...rows.map((r) => r[0].length)) + 2);
  out.push('', 'Options:');
  for (const [left, desc] of rows) {
    const head = `  ${left}`;
    const gap = head.length + 1 > pad + 2 ? `\n${' '.repeat(pad + 2)}` : ' '.repeat(pad + 2 - head.length);
    out.push(`${head}${gap}${wrap(desc, width, pad + 2)}`);
  }
  if (command.examples?.length) {
    out.push('', 'Examples:');
    for (const e of command.examples) out.push(`  ${e}`);
  }
  return `${out.join('\n')}\n`;
}
