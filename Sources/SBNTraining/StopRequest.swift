import Atomics
import Dispatch
import Foundation
import CProcess

/// SIGTERM, SIGINT and SIGUSR1 as a request to stop resumably: the handler only records the
/// signal; the trainer finishes its current step (a millisecond on this task), writes the
/// checkpoint, leaves the status `running` and the command exits with `ExitStatus.stopped`.
/// SLURM's warning signal (`--signal=B:USR1@60`), `timeout`, `scancel` and Ctrl-C all arrive here.
public enum StopRequest {
    /// The signals handled.
    public static let signals: [Int32] = [SIGTERM, SIGINT, SIGUSR1]

    private static let received = ManagedAtomic<Int32>(0)
    private static let sources = Sources()

    /// The signal that asked to stop, if one did.
    public static var signal: Int32? {
        let s = received.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// Installs the handlers (idempotent). Dispatch sources run them on a queue, so nothing
    /// async-signal-unsafe happens inside a signal handler.
    public static func install() {
        // Progress goes to stdout; a closed pipe (`… | head -1`) must not end the run by SIGPIPE.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        sources.start()
    }

    /// Records `signal` as if it had arrived.
    public static func request(_ signal: Int32) { received.store(signal, ordering: .relaxed) }

    /// The environment variable a sweep sets to its PID for the workers it starts.
    public static let parentVariable = "SBNLAB_SWEEP_PID"

    /// In a sweep's worker: asks the kernel for SIGTERM when the sweep process dies, even by
    /// SIGKILL (Linux `PR_SET_PDEATHSIG`), so that no worker outlives its sweep; the SIGTERM then
    /// stops the worker resumably. If the sweep is already gone, stops at once.
    public static func followParent() {
        guard let text = ProcessInfo.processInfo.environment[parentVariable], let parent = Int32(text) else { return }
        _ = sbn_set_parent_death_signal(SIGTERM)
        if getppid() != parent { request(SIGTERM) }
    }

    /// The signal's name, "SIGTERM".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGUSR1: "SIGUSR1"
        default: "signal \(signal)"
        }
    }

    private final class Sources: @unchecked Sendable {
        private let lock = NSLock()
        private var installed: [any DispatchSourceSignal] = []

        func start() {
            lock.lock()
            defer { lock.unlock() }
            guard installed.isEmpty else { return }
            for s in StopRequest.signals {
                Foundation.signal(s, SIG_IGN)  // the dispatch source replaces the default action (exit)
                let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
                source.setEventHandler { StopRequest.received.store(s, ordering: .relaxed) }
                source.resume()
                installed.append(source)
            }
        }
    }
}

/// The exit statuses of `sbnlab run` and `sbnlab sweep` (README "Exit statuses").
public enum ExitStatus {
    /// Finished (or already finished).
    public static let success: Int32 = 0
    /// An error: bad input, a failed run, a held lock. One line on stderr names the cause.
    public static let error: Int32 = 1
    /// Stopped by a signal with a checkpoint; `--resume` (or rerunning the sweep) continues it.
    /// 75 is EX_TEMPFAIL of sysexits.h: "try again later".
    public static let stopped: Int32 = 75
}
