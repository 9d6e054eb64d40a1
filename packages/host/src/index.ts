export * from './accounts/index.ts';
export * from './cgroups/index.ts';
export * from './dcgm/index.ts';
export * from './docker/index.ts';
export * from './nvidia/index.ts';
export * from './proc/index.ts';
export * from './process/index.ts';
export * from './users/knownAccounts.ts';
