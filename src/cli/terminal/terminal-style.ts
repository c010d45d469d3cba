import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Whether to colour what goes to `stream`: only on a terminal, never with NO_COLOR set (any
 * value, per no-color.org) or TERM=dumb; FORCE_COLOR turns it on anywhere.
 */
export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const enabled = forced || (Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb');
  return pc.createColors(enabled);
}
