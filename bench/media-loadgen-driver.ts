/**
 * The media benchmarks' side of the load generator (bench/media-loadgen.ts, a child process over
 * IPC): bind the generator's sockets, run a step, read its report.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CallPorts, CallTargets, GeneratorIo, LoadgenCommand, LoadgenReply, StepReport } from './media-loadgen.js';

export class Loadgen {
  readonly #child: ChildProcess;
  readonly #basePort: number;
  readonly #io: GeneratorIo;
  #waiting: ((r: LoadgenReply) => void) | undefined;

  /** @param basePort the generator's first port; @param io its sockets (native needs the addon). */
  constructor(basePort: number, io: GeneratorIo) {
    this.#basePort = basePort;
    this.#io = io;
    const entry = fileURLToPath(new URL('./media-loadgen.ts', import.meta.url));
    this.#child = fork(entry, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    this.#child.on('message', (m: LoadgenReply) => {
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.(m);
    });
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  request(cmd: LoadgenCommand): Promise<LoadgenReply> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#child.send(cmd);
    });
  }

  async bind(count: number): Promise<CallPorts[]> {
    const r = await this.request({ op: 'bind', count, basePort: this.#basePort, io: this.#io });
    if (r.op !== 'bound') throw new Error(`loadgen bind: ${JSON.stringify(r)}`);
    return r.ports;
  }

  /** One step; `latencyLimitMs` is the limit its worst windows count packets over. */
  async run(targets: CallTargets[], durationMs: number, latencyLimitMs = 5): Promise<StepReport> {
    const r = await this.request({ op: 'run', targets, durationMs, latencyLimitMs });
    if (r.op !== 'report') throw new Error(`loadgen run: ${JSON.stringify(r)}`);
    return r.report;
  }

  exit(): void {
    this.#child.send({ op: 'exit' } satisfies LoadgenCommand);
  }
}
