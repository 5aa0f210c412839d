import type { BundleOptions } from '../../release/bundle';

/** Options of the `bundle` executor (schema.json): BundleOptions without what the executor takes from Nx. */
export type BundleExecutorOptions = Omit<BundleOptions, 'workspaceRoot' | 'target' | 'configuration' | 'env'>;
