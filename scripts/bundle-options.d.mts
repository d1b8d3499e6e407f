import type { BuildOptions } from 'esbuild';

export declare const nodeBundle: BuildOptions;
export declare const extensionBundle: BuildOptions;
/** Source files (from the project's root) that the extension's bundles replace with a module that throws. */
export declare const SERVER_ONLY: readonly string[];
