/**
 * The AWS SDK for JavaScript warns once per process, on Node.js versions its releases after January 2027 will not
 * support. In local mode every process would print it (the `npm start` process, each function environment, each test
 * worker, each CLI run), burying the output a user reads; the deployed functions run on a Node.js version the warning
 * does not concern. A value you set yourself wins (the SDK stays quiet only for `true`).
 */
export const SDK_NODE_VERSION_WARNING_VARIABLE = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Silences the warning in this process and the processes it starts with its environment. */
export function quietSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env[SDK_NODE_VERSION_WARNING_VARIABLE] ??= 'true';
}

/** The variable to add to the environment of a process started with an explicit environment. */
export function sdkQuietEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return { [SDK_NODE_VERSION_WARNING_VARIABLE]: env[SDK_NODE_VERSION_WARNING_VARIABLE] ?? 'true' };
}
