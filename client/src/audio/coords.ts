/**
 * Game coordinates -> WebAudio coordinates.
 *
 * The spec's convention is +X right, +Y up, +Z forward (a left-handed triple,
 * as in Unity). WebAudio is right-handed: a listener facing +Z with +Y up has
 * its right ear towards -X. Mirroring X (a reflection, determinant -1) maps
 * one onto the other and keeps every distance, so attenuation is unchanged
 * and a source at +X is heard on the right. Applied to positions and to the
 * forward/up direction vectors alike.
 */
import type { Vec3 } from '../types';

export function toWebAudio(v: Vec3): Vec3 {
  return { x: -v.x, y: v.y, z: v.z };
}
