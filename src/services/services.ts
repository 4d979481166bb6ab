import type { Config } from '../config.js';

/** Domain services shared by resolvers, HTTP routes, consumers and the CLI; built once in the composition root. */
export interface Services {
  config: Pick<Config, 'publicBaseUrl'>;
}
