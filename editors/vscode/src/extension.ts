// The bpf-lsp VS Code extension: starts `bpf-lsp serve` for C files and
// adds restart / verify / output commands and a status item while the
// kernel cross-check runs.
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

function serverPath(cfg: vscode.WorkspaceConfiguration): string {
  // bpfLsp.path is machine-overridable: never taken from an untrusted
  // workspace, so opening a repository cannot make us run its binary.
  if (!vscode.workspace.isTrusted) {
    const inspected = cfg.inspect<string>('path');
    return inspected?.globalValue ?? inspected?.defaultValue ?? 'bpf-lsp';
  }
  return cfg.get<string>('path', 'bpf-lsp');
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('bpfLsp');
  const trusted = vscode.workspace.isTrusted;
  const args = ['serve', ...(trusted ? cfg.get<string[]>('extraArgs', []) : [])];
  const serverOptions: ServerOptions = {
    command: serverPath(cfg),
    args,
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'c' },
      { scheme: 'file', pattern: '**/*.bpf.c' },
    ],
    outputChannel: output,
    initializationOptions: {
      verifyOnSave: trusted && cfg.get<boolean>('verifyOnSave', false),
    },
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{compile_commands.json,compile_flags.txt}'),
    },
  };
  client = new LanguageClient('bpfLsp', 'bpf-lsp', serverOptions, clientOptions);
  await client.start();
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
      if (e.affectsConfiguration('bpfLsp.path') || e.affectsConfiguration('bpfLsp.extraArgs')) {
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
