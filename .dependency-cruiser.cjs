// Enforces the one-way imports of ../shared/design.md ("Layout and who may import whom").
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'store-is-standalone', severity: 'error',
      comment: 'embedded-store knows nothing of Kubernetes or of any other orch module',
      from: { path: '^embedded-store/' }, to: { path: '^(cmd|server|agent|runtime|netproxy|api)/' } },
    { name: 'runtime-is-standalone', severity: 'error',
      comment: 'runtime is CRI-like and Kubernetes-free',
      from: { path: '^runtime/' }, to: { path: '^(cmd|server|agent|embedded-store|netproxy|api)/' } },
    { name: 'api-is-shared-leaf', severity: 'error',
      comment: 'api/ is the shared types module; it imports no other orch module',
      from: { path: '^api/' }, to: { path: '^(cmd|server|agent|embedded-store|runtime|netproxy)/' } },
    { name: 'server-imports', severity: 'error',
      comment: 'server may import embedded-store and api only',
      from: { path: '^server/' }, to: { path: '^(cmd|agent|runtime|netproxy)/' } },
    { name: 'agent-never-imports-server', severity: 'error',
      comment: 'the agent talks to the server over HTTPS/WebSocket only',
      from: { path: '^agent/' }, to: { path: '^(cmd|server|embedded-store)/' } },
    { name: 'netproxy-imports', severity: 'error',
      from: { path: '^netproxy/' }, to: { path: '^(cmd|server|agent|embedded-store|runtime)/' } },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
