/**
 * Setting 3D parameters on PannerNode and AudioListener: the AudioParam API
 * where it exists (smoothed, no zipper noise), else the deprecated
 * setPosition/setOrientation methods (Firefox's AudioListener).
 */
import type { Orientation, Vec3 } from '../types';
import { toWebAudio } from './coords';

/** Time constant of pose smoothing, seconds: 63 % of a jump in 20 ms. */
export const POSE_SMOOTHING_S = 0.02;

type Triple = [AudioParam, AudioParam, AudioParam] | null;

function setTriple(params: Triple, v: Vec3, now_s: number, immediate: boolean): boolean {
  if (!params) return false;
  const values = [v.x, v.y, v.z];
  params.forEach((p, i) => {
    if (immediate) p.setValueAtTime(values[i]!, now_s);
    else p.setTargetAtTime(values[i]!, now_s, POSE_SMOOTHING_S);
  });
  return true;
}

function triple(node: object, names: [string, string, string]): Triple {
  const n = node as Record<string, AudioParam | undefined>;
  const [a, b, c] = [n[names[0]], n[names[1]], n[names[2]]];
  return a && b && c ? [a, b, c] : null;
}

/** Position (and forward, for cones) of one remote voice. */
export function setPannerPose(
  panner: PannerNode,
  position: Vec3,
  orientation: Orientation | undefined,
  now_s: number,
  immediate: boolean,
): void {
  const p = toWebAudio(position);
  if (!setTriple(triple(panner, ['positionX', 'positionY', 'positionZ']), p, now_s, immediate)) {
    panner.setPosition(p.x, p.y, p.z);
  }
  if (!orientation) return;
  const f = toWebAudio(orientation.forward);
  if (
    !setTriple(triple(panner, ['orientationX', 'orientationY', 'orientationZ']), f, now_s, true)
  ) {
    panner.setOrientation(f.x, f.y, f.z);
  }
}

/** Position and orientation of the listener (the local player's head). */
export function setListenerPose(
  listener: AudioListener,
  position: Vec3,
  orientation: Orientation,
  now_s: number,
  immediate: boolean,
): void {
  const p = toWebAudio(position);
  const f = toWebAudio(orientation.forward);
  const u = toWebAudio(orientation.up);
  if (!setTriple(triple(listener, ['positionX', 'positionY', 'positionZ']), p, now_s, immediate)) {
    listener.setPosition(p.x, p.y, p.z);
  }
  const fwd = triple(listener, ['forwardX', 'forwardY', 'forwardZ']);
  const up = triple(listener, ['upX', 'upY', 'upZ']);
  if (fwd && up) {
    // Directions are set, not smoothed: interpolating forward and up
    // separately can pass through a zero or non-orthogonal basis (a 180 degree
    // turn), which WebAudio cannot pan.
    setTriple(fwd, f, now_s, true);
    setTriple(up, u, now_s, true);
  } else {
    listener.setOrientation(f.x, f.y, f.z, u.x, u.y, u.z);
  }
}
