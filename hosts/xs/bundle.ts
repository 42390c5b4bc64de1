// Bundles TypeScript for the XS engine: one ES2022 script (IIFE), no Node built-ins. A Node import
// anywhere in the graph fails the build and names the importing file, because the device has none.
import { builtinModules } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { build, type Message, type Plugin } from 'esbuild';
import { XsError } from './errors';

export class XsBundleError extends XsError {
  constructor(
    readonly problems: string[],
    what: string,
  ) {
    super('XS_BUNDLE', `cannot bundle ${what} for XS:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export interface BundleSource {
  /** Source text of the entry (TypeScript). */
  contents: string;
  /** Directory relative imports resolve from. */
  resolveDir: string;
  /** Name shown in errors. */
  sourcefile?: string;
}

export interface BundleOptions {
  minify?: boolean;
  /** Also write the bundle to this path. */
  outfile?: string;
  /** Compile-time constants, as esbuild `define` (values are JS expressions). */
  define?: Record<string, string>;
  /**
   * More esbuild plugins, ahead of the one that refuses Node built-ins, so they can stand in for SDK
   * modules that share a name with one (Moddable's `net`).
   */
  plugins?: Plugin[];
}

export interface Bundle {
  code: string;
  /** UTF-8 size of `code` in bytes. */
  bytes: number;
}

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Turns any import of a Node built-in (fs, node:net, ...) into a build error. */
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!args.path.startsWith('node:') && !nodeBuiltins.has(args.path)) return undefined;
      return {
        errors: [
          {
            text:
              `"${args.path}" is a Node built-in, and XS has none: firmware must reach the world through ` +
              `the ports in src/ports.ts`,
          },
        ],
      };
    });
  },
};

/** Bundles an entry file (path) or entry source into one script XS can evaluate. */
export async function bundleForXs(entry: string | BundleSource, options: BundleOptions = {}): Promise<Bundle> {
  const what = typeof entry === 'string' ? entry : (entry.sourcefile ?? 'generated entry');
  let result;
  try {
    result = await build({
      ...(typeof entry === 'string'
        ? { entryPoints: [entry] }
        : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, sourcefile: entry.sourcefile, loader: 'ts' } }),
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2022',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      minify: options.minify ?? false,
      define: options.define,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [...(options.plugins ?? []), noNodeBuiltins],
    });
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors;
    if (messages?.length) throw new XsBundleError(messages.map(describe), what);
    throw error;
  }
  const code = result.outputFiles[0]!.text;
  if (options.outfile) await writeFile(options.outfile, code);
  return { code, bytes: Buffer.byteLength(code) };
}

function describe(message: Message): string {
  const where = message.location ? `${message.location.file}:${message.location.line}:${message.location.column + 1}: ` : '';
  return `${where}${message.text}`;
}
