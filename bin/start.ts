// npm start: read the environment, start the server, print the URL, stop cleanly on Ctrl-C.
import { ConfigError, readConfig } from '../api/config.ts';
import { startServer } from '../api/server.ts';
import { TemplateFileError } from '../api/templates.ts';

try {
  const config = readConfig();
  const running = await startServer(config);
  console.log(`Status page running at ${running.url}/  (API: ${running.url}/api/v1, docs: ${running.url}/api/docs)`);
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (e) {
  if (e instanceof ConfigError || e instanceof TemplateFileError) {
    console.error(e instanceof TemplateFileError ? `Template error: ${e.message}` : e.message);
    process.exit(1);
  }
  throw e;
}
