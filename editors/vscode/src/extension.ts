// The bpf-lsp VS Code extension: starts `bpf-lsp serve` for BPF programs
// (bpfLsp.files globs, beside clangd) and
// adds restart / verify / output commands and a status item while the
// kernel cross-check runs.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
  ExecuteCommandRequest,
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

async function start(context: vscode.ExtensionContext): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('bpfLsp');
  const trusted = vscode.workspace.isTrusted;
  const command = serverPath(context, cfg);
  const serverOptions: ServerOptions = {
    command,
    args: ['serve', ...setting<string[]>(cfg, 'extraArgs', [])],
    transport: TransportKind.stdio,
  };
  // Only BPF programs: other C files stay with clangd alone.
  const files = setting<string[]>(cfg, 'files', ['**/*.bpf.c']);
  const clientOptions: LanguageClientOptions = {
    documentSelector: files.map((pattern) => ({ scheme: 'file', language: 'c', pattern })),
    outputChannel: output,
    initializationOptions: {
      includeDirs: setting<string[]>(cfg, 'includeDirs', []),
      compileFlags: setting<string[]>(cfg, 'compileFlags', []),
      defines: setting<string[]>(cfg, 'defines', []),
      compileCommands: setting<string>(cfg, 'compileCommands', ''),
      verifyOnSave: trusted && cfg.get<boolean>('verifyOnSave', false),
      clangPath: setting<string>(cfg, 'clangPath', ''),
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
