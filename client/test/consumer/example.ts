// The host integration example of MVP-SPEC section 26 (also in README.md),
// type-checked against the BUILT package through its own "exports" map
// (package self-reference), as a host application would import it.
import {
  createProximityVoiceClient,
  ProximityVoiceError,
  type VoiceDiagnostics,
  type VoiceSessionResponseLike,
} from 'proximity-voice-client';

declare const session: VoiceSessionResponseLike;

export async function example(): Promise<VoiceDiagnostics> {
  const voice = createProximityVoiceClient();

  voice.on('connected', () => console.log('voice connected'));
  voice.on('disconnected', (reason) => console.log('voice disconnected', reason));
  voice.on('participant-speaking', (id, speaking) => console.log(id, speaking));
  voice.on('error', (err) => {
    if (err instanceof ProximityVoiceError && err.code === 'POLICY_AUTH') {
      // fetch a fresh session from the game backend, then:
      voice.updateCredentials({ policySocketToken: 'new-token' });
    }
  });

  await voice.connect({
    livekitUrl: session.livekitUrl,
    token: session.token,
    participantId: session.participantId,
    roomId: session.roomId,
    policySocketUrl: session.policySocketUrl,
    policySocketToken: session.policySocketToken,
  });

  voice.setListenerPose({
    position: { x: 0, y: 1.7, z: 0 },
    orientation: {
      forward: { x: 0, y: 0, z: 1 },
      up: { x: 0, y: 1, z: 0 },
    },
  });

  voice.upsertRemotePose({
    participantId: 'p_205',
    position: { x: 3, y: 1.7, z: -2 },
    timestampMs: Date.now(),
  });

  await voice.setMicState({ enabled: true, pushToTalk: true, pushToTalkActive: false });
  await voice.setInputDevice('default');
  await voice.setOutputDevice?.('default');
  voice.removeRemoteParticipant('p_205');
  const d = voice.getDiagnostics();
  await voice.disconnect();
  return d;
}
