/**
 * sharp (libvips) loaded on first use: it adds tens of megabytes to the resident memory of every
 * server, and only thumbnail and URL-preview requests need it.
 */
import type SharpModule from 'sharp';

export type Sharp = typeof SharpModule;

let loading: Promise<Sharp> | undefined;

export function loadSharp(): Promise<Sharp> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
