export * from './docker/index.ts';
export * from './nvidia/index.ts';
export * from './process/index.ts';
export * from './sessions/loggedInSessions.ts';
