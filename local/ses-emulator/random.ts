// Seeded pseudo-random numbers for the emulator's shuffles and fault draws: same seed, same run.

/** A deterministic PRNG returning floats in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough for fault draws and shuffles; same seed → same sequence. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash, used to derive independent per-region PRNG streams from one seed. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Derives a seeded PRNG for one named stream, so streams do not perturb each other. */
export function deriveRandom(seed: number, stream: string): Random {
  return mulberry32((seed ^ hashString(stream)) >>> 0);
}

/** In-place Fisher–Yates shuffle, O(n). */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}
