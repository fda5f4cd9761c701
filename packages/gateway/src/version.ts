/** The server's version: in the start banner, `model-server -v`, the OIP server metadata and the API descriptions. */
export const SERVER_VERSION = '0.1.0';
