export * from './version';
export * from './limits';
export * from './errors';
export * from './schemas';
export * from './issues';
export * from './events';
export * from './commands';
export * from './private';
