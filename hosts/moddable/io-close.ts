// close() exists at run time on every ECMA-419 IO object, but the SDK typings omit it on I2C,
// Analog, UDP and Listener; this reaches it without claiming more than the typings say.
export const closeIo = (io: object): void => {
  const close = (io as { close?: () => void }).close;
  if (typeof close === 'function') close.call(io);
};
