import { z } from 'zod';

/**
 * The `images:` section of ds01.yaml: the base images `ds01 image create` and `ds01 project init`
 * start from, and the largest image a user may build.
 * - bases: a word (what users type: `--base pytorch`) → the image and the command that installs
 *   `--packages` in it (the packages are appended, each quoted);
 * - default_base: the base when none is given;
 * - max_size_gb: an image built larger is removed at once and the build told so (null: no limit).
 * The defaults are the images ds01-infra falls back to (scripts/lib/aime-images.sh).
 */
export const ImageBase = z.strictObject({
  image: z.string().min(1),
  install: z.string().min(1).default('pip install --no-cache-dir'),
  description: z.string().optional(),
});
export type ImageBase = z.infer<typeof ImageBase>;

export const DEFAULT_IMAGE_BASES: Record<string, ImageBase> = {
  pytorch: {
    image: 'pytorch/pytorch:2.5.1-cuda12.1-cudnn9-runtime',
    install: 'pip install --no-cache-dir',
    description: 'PyTorch 2.5.1, CUDA 12.1, cuDNN 9',
  },
  tensorflow: {
    image: 'tensorflow/tensorflow:2.14.0-gpu',
    install: 'pip install --no-cache-dir',
    description: 'TensorFlow 2.14 with GPU support',
  },
};

export const ImagesConfig = z.strictObject({
  bases: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a base is named by a lowercase word'), ImageBase)
    .default(DEFAULT_IMAGE_BASES),
  default_base: z.string().min(1).default('pytorch'),
  max_size_gb: z.number().positive().nullable().default(50),
});
export type ImagesConfig = z.infer<typeof ImagesConfig>;

export const imagesSection = { images: ImagesConfig.nullish() };

/** The images settings, every default filled in; a default_base that is not a base is a ConfigError's job for the caller. */
export function imagesConfigOf(yaml: object): ImagesConfig {
  return ImagesConfig.parse((yaml as { images?: unknown }).images ?? {});
}

/** The size limit in bytes (null: none). */
export function maxImageBytes(images: ImagesConfig): number | null {
  return images.max_size_gb === null ? null : Math.round(images.max_size_gb * 1024 ** 3);
}
