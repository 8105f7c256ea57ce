// The bpf-lsp VS Code extension: starts `bpf-lsp serve` for BPF programs
// (bpfLsp.files globs, or C files whose text marks them as BPF; beside
// clangd) and adds restart / verify / output commands and a status item
// while the kernel cross-check runs.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
  ExecuteCommandRequest,
  Middleware,
} from 'vscode-languageclient/node';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let status: vscode.StatusBarItem;
let missingShown = false;

// setting reads a bpfLsp setting; in an untrusted workspace only the
// user's own value counts, so opening a repository cannot choose a binary,
// a path or arguments for us.
function setting<T>(cfg: vscode.WorkspaceConfiguration, key: string, fallback: T): T {
  if (!vscode.workspace.isTrusted) {
    const inspected = cfg.inspect<T>(key);
    return inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
  }
  return cfg.get<T>(key, fallback);
}

// serverPath: the configured binary, else the one packaged in the
// extension (the per-platform .vsix has bin/bpf-lsp), else bpf-lsp on PATH.
function serverPath(context: vscode.ExtensionContext, cfg: vscode.WorkspaceConfiguration): string {
  const configured = setting<string>(cfg, 'path', '');
  if (configured) {
    return configured;
  }
  const bundled = path.join(context.extensionPath, 'bin', process.platform === 'win32' ? 'bpf-lsp.exe' : 'bpf-lsp');
  return fs.existsSync(bundled) ? bundled : 'bpf-lsp';
}

// bpfMarkers: text that only a BPF program has. bpf_helpers.h reached
// through a project header is not seen (add a glob to bpfLsp.files).
const bpfMarkers = /\bSEC\s*\(\s*"|#\s*include\s*[<"](?:bpf\/bpf_helpers\.h|(?:[^>"]*\/)?vmlinux\.h)[>"]/;

// verdicts caches, per open document URI, whether it is a BPF program:
// decided once when the document is first seen (so the server sees a
// consistent open/change/close sequence) and forgotten on close, so a C
// file that becomes a BPF program is served once it is reopened.
const verdicts = new Map<string, boolean>();

function isBpf(document: vscode.TextDocument, files: string[]): boolean {
  const key = document.uri.toString();
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    verdict =
      files.some((pattern) => vscode.languages.match({ scheme: 'file', language: 'c', pattern }, document) > 0) ||
      bpfMarkers.test(document.getText());
    verdicts.set(key, verdict);
  }
  return verdict;
}

// bpfOnly builds the middleware that keeps every C file that is not a BPF
// program away from the server. A DocumentSelector can match only a
// language, a scheme and a glob, never the text, so the client is
// registered for all C files and this filter drops the rest: their
// open/change/save/close notifications are never sent and their requests
// answer nothing, leaving them to clangd alone. A feature the server
// gains needs its provide* hook here too.
function bpfOnly(files: string[]): Middleware {
  const ok = (document: vscode.TextDocument) => isBpf(document, files);
  const notify = <E>(doc: (e: E) => vscode.TextDocument) =>
    (e: E, next: (e: E) => Promise<void>): Promise<void> => (ok(doc(e)) ? next(e) : Promise.resolve());
  return {
    didOpen: notify((d: vscode.TextDocument) => d),
    didChange: notify((e: vscode.TextDocumentChangeEvent) => e.document),
    willSave: notify((e: vscode.TextDocumentWillSaveEvent) => e.document),
    willSaveWaitUntil: (e, next) => (ok(e.document) ? next(e) : Promise.resolve([])),
    didSave: notify((d: vscode.TextDocument) => d),
    didClose: async (d, next) => {
      const served = ok(d);
      verdicts.delete(d.uri.toString());
      if (served) {
        await next(d);
      }
    },
    provideHover: (d, pos, token, next) => (ok(d) ? next(d, pos, token) : undefined),
    provideDefinition: (d, pos, token, next) => (ok(d) ? next(d, pos, token) : undefined),
    provideDocumentSymbols: (d, token, next) => (ok(d) ? next(d, token) : undefined),
    provideCodeActions: (d, range, context, token, next) => (ok(d) ? next(d, range, context, token) : undefined),
    provideInlayHints: (d, range, token, next) => (ok(d) ? next(d, range, token) : undefined),
    provideCodeLenses: (d, token, next) => (ok(d) ? next(d, token) : undefined),
    // Every pull comes through here (on open, on change, for other
    // open files after a change, for tabs). A bare URI is a file not
    // open, of which the server only reports BPF programs.
    provideDiagnostics: (d, previous, token, next) =>
      (d instanceof vscode.Uri ? verdicts.get(d.toString()) !== false : ok(d)) ? next(d, previous, token) : undefined,
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('bpfLsp');
  const trusted = vscode.workspace.isTrusted;
  const command = serverPath(context, cfg);
  const serverOptions: ServerOptions = {
    command,
    args: ['serve', ...setting<string[]>(cfg, 'extraArgs', [])],
    transport: TransportKind.stdio,
  };
  // Only BPF programs: other C files stay with clangd alone (bpfOnly).
  const files = setting<string[]>(cfg, 'files', ['**/*.bpf.c']);
  verdicts.clear(); // the globs may have changed
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'c' }],
    middleware: bpfOnly(files),
    outputChannel: output,
    initializationOptions: {
      includeDirs: setting<string[]>(cfg, 'includeDirs', []),
      compileFlags: setting<string[]>(cfg, 'compileFlags', []),
      defines: setting<string[]>(cfg, 'defines', []),
      compileCommands: setting<string>(cfg, 'compileCommands', ''),
      verifyOnSave: trusted && cfg.get<boolean>('verifyOnSave', false),
      clangPath: setting<string>(cfg, 'clangPath', ''),
      targetKernels: setting<string[]>(cfg, 'targetKernels', []),
      workspaceDiagnostics: cfg.get<boolean>('workspaceDiagnostics', true),
    },
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{compile_commands.json,compile_flags.txt,.bpf-lsp.yaml}'),
    },
  };
  client = new LanguageClient('bpfLsp', 'bpf-lsp', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (e) {
    client = undefined;
    if (!missingShown) {
      missingShown = true;
      void vscode.window.showErrorMessage(
        `bpf-lsp: cannot start '${command}' (${e instanceof Error ? e.message : String(e)}). ` +
          'Install the platform-specific extension (it ships the server), put bpf-lsp on PATH, or set bpfLsp.path.',
      );
    }
    return;
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

async function verify(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!client || !editor) {
    return;
  }
  await editor.document.save();
  status.text = '$(sync~spin) bpf-lsp: verifying';
  status.show();
  try {
    const result = await client.sendRequest(ExecuteCommandRequest.type, {
      command: 'bpf-lsp.verify',
      arguments: [editor.document.uri.toString()],
    });
    output.info(`kernel verifier: ${String(result)}`);
    vscode.window.setStatusBarMessage('bpf-lsp: verified against the kernel (see Problems)', 5000);
  } catch (e) {
    vscode.window.showErrorMessage(`bpf-lsp verify: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    status.hide();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('bpf-lsp', { log: true });
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left);
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand('bpfLsp.restart', async () => {
      await client?.stop();
      await start(context);
    }),
    vscode.commands.registerCommand('bpfLsp.verify', verify),
    vscode.commands.registerCommand('bpfLsp.showOutput', () => output.show()),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('bpfLsp')) {
        await client?.stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}
