export type BridgeErrorCode =
  | 'unknown-device'
  | 'unsupported-rate'
  | 'unsupported-format'
  | 'no-device'
  | 'open-failed'
  | 'device-lost'
  | 'scan-failed'
  | 'native-missing';

/** A sound-card problem a user can act on: the code is for programs, `field` names the option at fault. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
