import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageBase, imagesConfigOf } from '@ds01/config';
import { userImageNamespace, userImageRef, userImageRefProblem } from '@ds01/domain';
import { DockerRefusedError, type UserImage } from '@ds01/host';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Column } from '../output/table.ts';
import { relativeTime } from '../output/time.ts';
import { DENIED_EXIT_CODE, type UserSession, userSession } from './container.ts';

const HELP = `
Your images are ds01-<you>/<name> (the gateway builds no other name, and removes an image larger
than the server allows: images.max_size_gb of ds01.yaml). A container of yours runs one with
\`ds01 container deploy NAME\`, which takes ds01-<you>/NAME by default.

The beginner path:
  ds01 image create thesis --packages numpy pandas     PyTorch (the default base) plus your packages
  ds01 container deploy thesis                         a container of it, with a GPU

ds01-infra's names work too: image-create, image-list, image-delete.`;

export function register(program: Command, context: CliContext): void {
  const image = program
    .command('image')
    .description('your own images: build one from a base with your packages, list them, remove them')
    .addHelpText('after', HELP);

  image
    .command('create')
    .description('build ds01-<you>/<name> from a base image of this server, with your packages')
    .argument('<name>', 'the image name (lowercase: letters, digits, . _ -)')
    .option('--base <base>', "one of this server's bases (ds01 image bases), or an image name")
    .option('--packages <packages...>', 'packages to install in it (pip, for the Python bases)')
    .option('--json', 'the image built, as JSON')
    .addHelpText(
      'after',
      `
The build's output streams as it comes. Exit codes: 0 built, 1 the build failed, ${DENIED_EXIT_CODE} refused
(a name outside your namespace, or larger than the server allows).

Examples:
  ds01 image create thesis                                  the default base as it is
  ds01 image create thesis --base tensorflow --packages scikit-learn
  ds01 image bases                                          which bases this server has`,
    )
    .action(async (name: string, options: { base?: string; packages?: string[]; json?: boolean }) => {
      const session = await userSession(context);
      const base = chooseBase(context, options.base);
      const built = await buildImage(context, session, name, {
        dockerfile: dockerfileFor(base, options.packages ?? []),
        quiet: options.json === true,
      });
      if (options.json) context.output.json(built);
      else {
        context.output.line(`built ${built.image} (${megabytes(built.sizeBytes)}) from ${base.image}`);
        context.output.line(`Run it: ds01 container deploy ${name}`);
      }
    });

  image
    .command('list')
    .description('your images')
    .option('--json', 'the rows as one JSON array')
    .action(async (options: { json?: boolean }) => {
      const session = await userSession(context);
      const rows = await session.docker.images(userImageNamespace(session.me.user));
      if (options.json) return context.output.json(rows);
      context.output.table(imageColumns(new Date()), rows, '(no images yet: ds01 image create NAME)');
    });

  image
    .command('bases')
    .description('the base images of this server (images: in ds01.yaml)')
    .option('--json', 'the bases as one JSON object')
    .action((options: { json?: boolean }) => {
      const images = imagesConfigOf(context.config().yaml);
      if (options.json) return context.output.json(images);
      const rows = Object.entries(images.bases).map(([word, base]) => ({ word, ...base }));
      context.output.table(
        [
          { header: 'base', value: (r) => `${r.word}${r.word === images.default_base ? ' (default)' : ''}` },
          { header: 'image', value: (r) => r.image },
          { header: 'about', value: (r) => r.description ?? '' },
        ],
        rows,
        '(no bases configured: give an image with --base)',
      );
    });

  image
    .command('rm')
    .alias('remove')
    .description('remove one of your images (not while a container of yours uses it)')
    .argument('<name>', 'the image: NAME, NAME:TAG or ds01-<you>/NAME')
    .action(async (name: string) => {
      const session = await userSession(context);
      const ref = userImageRef(session.me.user, name);
      try {
        await session.docker.removeImage(ref);
      } catch (error) {
        if (error instanceof DockerRefusedError && error.status === 404)
          throw new CliError(`you have no image ${ref}`, { hint: 'yours: ds01 image list' });
        if (error instanceof DockerRefusedError && error.status === 409)
          throw new CliError(`${ref} is in use: ${error.message}`, {
            hint: 'retire the container that uses it first (ds01 container list)',
          });
        throw error;
      }
      context.output.line(`removed ${ref}`);
    });
}

/** The base named (a word of images.bases), else the default; a name with / or : is an image itself. */
export function chooseBase(context: CliContext, asked: string | undefined): ImageBase {
  const images = imagesConfigOf(context.config().yaml);
  const word = asked ?? images.default_base;
  const base = images.bases[word];
  if (base) return base;
  if (asked && /[/:]/.test(asked)) return { image: asked, install: 'pip install --no-cache-dir' };
  throw new CliError(`this server has no base ${JSON.stringify(word)}`, {
    hint: `its bases: ${Object.keys(images.bases).join(', ') || '(none)'} (ds01 image bases); or give an image, --base python:3.12`,
  });
}

/** A Dockerfile of a base and packages: FROM, one RUN installing them (each quoted), /workspace. */
export function dockerfileFor(base: ImageBase, packages: readonly string[]): string {
  const quoted = packages.map((p) => {
    if (!/^[\w.+\-=<>!~[\],@/:]+$/.test(p))
      throw new CliError(`${JSON.stringify(p)} is not a package name`, {
        hint: 'for example: --packages numpy pandas==2.2',
      });
    return `'${p}'`;
  });
  return [
    `FROM ${base.image}`,
    ...(quoted.length ? [`RUN ${base.install} ${quoted.join(' ')}`] : []),
    'WORKDIR /workspace',
    '',
  ].join('\n');
}

/**
 * Builds ds01-<user>/<name> through the user's socket, the output streamed to stdout (stderr with
 * `quiet`, which keeps stdout for --json). The build folder is a Dockerfile, or a project's folder.
 */
export async function buildImage(
  context: CliContext,
  session: UserSession,
  name: string,
  source: { dockerfile: string; quiet?: boolean } | { folder: string; quiet?: boolean },
): Promise<UserImage> {
  const ref = userImageRef(session.me.user, name);
  const problem = userImageRefProblem(session.me.user, ref);
  if (problem) throw new CliError(problem, { hint: 'for example: ds01 image create thesis' });
  const folder = 'folder' in source ? source.folder : mkdtempSync(join(tmpdir(), 'ds01-image-'));
  try {
    if ('dockerfile' in source) writeFileSync(join(folder, 'Dockerfile'), source.dockerfile);
    const out = source.quiet ? process.stderr : context.output.stream;
    await session.docker.build(folder, ref, (text) => out.write(text));
  } catch (error) {
    if (error instanceof DockerRefusedError) {
      const refused = error.status === 403 || /larger than this server allows/.test(error.message);
      throw new CliError(`could not build ${ref}: ${error.message}`, {
        exitCode: refused ? DENIED_EXIT_CODE : 1,
        hint: refused ? undefined : 'the lines above say which step failed',
        cause: error,
      });
    }
    throw error;
  } finally {
    if ('dockerfile' in source) rmSync(folder, { recursive: true, force: true });
  }
  const built = (await session.docker.images(ref)).find((i) => i.image === ref);
  if (!built) throw new CliError(`${ref} was built but is not there`, { hint: 'ds01 image list' });
  return built;
}

function megabytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

function imageColumns(now: Date): Column<UserImage>[] {
  return [
    { header: 'image', value: (r) => r.image, shrink: true },
    { header: 'id', value: (r) => r.id.replace(/^sha256:/, '').slice(0, 12) },
    { header: 'size', value: (r) => megabytes(r.sizeBytes), align: 'right' },
    { header: 'created', value: (r) => relativeTime(r.createdAt, now) },
  ];
}
