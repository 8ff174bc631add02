// Our prompts: a summary of a run's artifacts for the agent to report from, and the conventions a
// tool author follows so its outputs are routed. Dataset names and run ids complete from what is
// on disk. Read-only; unknown names and refs are left to other sources (a proxy's downstreams).
import type { CompleteRequest, CompleteResult, GetPromptResult, ListPromptsResult, Prompt } from '@modelcontextprotocol/server';
import type { Workspaces } from '../workspace/layout.js';
import { datasetSlug } from '../workspace/slug.js';
import { describeRun } from './info.js';
import type { CompletionSource, PromptSource } from './sources.js';
import { protocolError } from './errors.js';
import { ProtocolErrorCode } from '@modelcontextprotocol/server';

const PROMPTS: Prompt[] = [
  {
    name: 'workspace_summary',
    title: 'Summarise a run\'s artifacts',
    description: 'What a dataset\'s run holds (models, reports, plots, metrics, data), with paths and sizes, ready to report from.',
    arguments: [
      { name: 'dataset', description: 'Dataset name (completes from the workspaces).', required: true },
      { name: 'run_id', description: 'A run of it (default: the one `latest` names).', required: false },
    ],
  },
  {
    name: 'artifact_conventions',
    title: 'How tools should return artifacts',
    description: 'The result shapes whose files artifact-workspace routes into the workspace: for writing or adjusting a tool.',
  },
];

const CONVENTIONS = `Tools whose results name their output files get them filed into the dataset's workspace
({root}/{dataset}/{run_id}/models, reports, plots, metrics, data, indexes, logs, …) with a manifest.
Preferred: an explicit list,
  {"status": "success", "artifacts": [{"path": "/tmp/model.pkl", "type": "model", "label": "best_model"}]}
Also recognised, at any depth of the result (structuredContent or JSON in a text block):
  model_path(s), report_path(s), pdf_path, plot_path(s), image_path(s), metrics_path(s), index_path(s), data_path(s)
and resource_link blocks with file:// URIs, embedded resources, and image/audio blocks (their bytes are saved).
Types: model, report, plot, metrics, data, upload, index, log, tmp; without one the extension decides.
A path the call received as an argument is an input and is not filed unless "artifacts" names it.
Only files under the allowed roots (the upload root, the workspaces, the temp folder, the servers' working folders) are routed.`;

export class WorkspacePrompts implements PromptSource, CompletionSource {
  constructor(
    private readonly workspaces: Workspaces,
    private readonly mode: 'copy' | 'move',
  ) {}

  async listPrompts(): Promise<ListPromptsResult> {
    return { prompts: PROMPTS };
  }

  getPrompt(name: string, args: Record<string, string> | undefined): Promise<GetPromptResult> | undefined {
    if (name === 'artifact_conventions') return Promise.resolve({ description: PROMPTS[1]!.description, messages: [{ role: 'user', content: { type: 'text', text: CONVENTIONS } }] });
    if (name === 'workspace_summary') return this.summary(args ?? {});
    return undefined;
  }

  private async summary(args: Record<string, string>): Promise<GetPromptResult> {
    if (!args.dataset) throw protocolError(ProtocolErrorCode.InvalidParams, 'workspace_summary needs a dataset');
    const slug = datasetSlug(args.dataset);
    const runId = args.run_id || (await this.workspaces.latest(slug)) || (await this.workspaces.listRuns(slug)).pop();
    if (!runId) throw protocolError(ProtocolErrorCode.InvalidParams, `no runs for dataset "${slug}"`);
    let info;
    try {
      info = await describeRun(this.workspaces, await this.workspaces.openRun(slug, runId), { mode: this.mode });
    } catch (e) {
      throw protocolError(ProtocolErrorCode.InvalidParams, (e as Error).message);
    }
    const text = [
      `Workspace of dataset "${slug}", run ${runId} (${info.workspace_root}).`,
      `Files per folder: ${Object.entries(info.counts).map(([k, v]) => `${k} ${v}`).join(', ')}; ${info.bytes} bytes in all.`,
      'Most recent artifacts (tool, type, file, bytes, sha256):',
      ...info.recent.map((e) => `- ${e.tool}, ${e.type}, ${e.dst}, ${e.bytes}, ${e.sha256.slice(0, 12)}`),
      'Summarise what this run produced for the user, naming each model, report and plot by its path.',
    ].join('\n');
    return { description: `Artifacts of ${slug}/${runId}`, messages: [{ role: 'user', content: { type: 'text', text } }] };
  }

  complete(params: CompleteRequest['params']): Promise<CompleteResult> | undefined {
    if (params.ref.type !== 'ref/prompt' || params.ref.name !== 'workspace_summary') return undefined;
    return (async () => {
      const typed = params.argument.value.toLowerCase();
      const dataset = params.context?.arguments?.dataset;
      const all = params.argument.name === 'run_id' && dataset ? (await this.workspaces.listRuns(datasetSlug(dataset))).reverse() : params.argument.name === 'dataset' ? await this.workspaces.listDatasets() : [];
      const values = all.filter((v) => v.toLowerCase().startsWith(typed));
      return { completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 } };
    })();
  }
}
