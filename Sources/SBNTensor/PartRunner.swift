import Atomics
import CKernels
import Foundation

/// Runs work that is split into a fixed number of parts (`PartRunner.parts`) on one thread or on
/// two: with two workers the caller does part 0 while a helper thread does part 1.
///
/// The split is the same whatever the worker count, so results do not depend on it to the last
/// bit: each part does the same arithmetic either way. The helper spins briefly between calls (a
/// training step makes a few dozen of them, microseconds apart) and then sleeps, so an idle runner
/// leaves its core to others (evaluation, other processes).
public final class PartRunner: @unchecked Sendable {
    /// Parts per call. Two: one per core of the machines this project targets.
    public static let parts = 2

    public let workers: Int
    private let shared: Shared?
    private let thread: Thread?

    /// One worker runs the parts in order on the calling thread; two add a helper thread.
    public init(workers: Int) {
        self.workers = min(max(workers, 1), Self.parts)
        guard self.workers > 1 else {
            shared = nil
            thread = nil
            return
        }
        let shared = Shared()
        self.shared = shared
        let thread = Thread { shared.helperLoop() }
        thread.name = "sbnlab-part-1"
        thread.stackSize = 1 << 20
        thread.start()
        self.thread = thread
    }

    deinit { shared?.stop() }

    /// Calls `body(part)` for every part: in order here with one worker; with two, part 1 on the
    /// helper while part 0 runs here. Returns when all parts are done.
    ///
    /// Known cost: with two workers, handing the non-escaping `body` to the helper thread goes
    /// through `withoutActuallyEscaping`, which boxes it — one small allocation per call (about
    /// ten per training step, ≈ 1 µs). One worker allocates nothing.
    public func run(_ body: (Int) -> Void) {
        guard let shared else {
            for part in 0..<Self.parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { escaping in shared.run(escaping) }
    }

    /// Where `0..<count` is cut into its two parts: near the middle, on a multiple of `align`.
    public static func boundary(_ count: Int, align: Int = 1) -> Int {
        min(count, (count / 2 + align / 2) / align * align)
    }

    /// Part `part` of `0..<count` cut at `boundary`.
    @inlinable
    public static func range(_ part: Int, of count: Int, boundary: Int) -> Range<Int> {
        part == 0 ? 0..<boundary : boundary..<count
    }

    /// A runner without a helper thread, for work that is parallel at another level.
    public static let serial = PartRunner(workers: 1)

    /// The state the helper thread shares with the caller.
    final class Shared: @unchecked Sendable {
        private let generation = ManagedAtomic<Int>(0)
        private let finished = ManagedAtomic<Int>(0)
        private let sleeping = ManagedAtomic<Bool>(false)
        private let stopping = ManagedAtomic<Bool>(false)
        private let wake = DispatchSemaphore(value: 0)
        /// Written by the caller before `generation` is released, read by the helper after acquiring it.
        private var task: ((Int) -> Void)?
        /// How long the helper polls for the next call before it sleeps: longer than the serial
        /// stretches of a training step (noise draws, the optimizer's bookkeeping, the next batch),
        /// short enough to leave the core to evaluation workers soon.
        private let spinNanoseconds: UInt64 = 2_000_000

        func run(_ body: @escaping (Int) -> Void) {
            task = body
            let target = generation.wrappingIncrementThenLoad(ordering: .sequentiallyConsistent)
            if sleeping.load(ordering: .sequentiallyConsistent) { wake.signal() }
            body(0)
            while finished.load(ordering: .acquiring) != target { spinPause() }
            task = nil
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            generation.wrappingIncrement(ordering: .sequentiallyConsistent)
            wake.signal()
        }

        func helperLoop() {
            var seen = 0
            while true {
                var spins = 0
                var since = DispatchTime.now().uptimeNanoseconds
                while generation.load(ordering: .acquiring) == seen {
                    spins += 1
                    spinPause()
                    // Look at the clock every 1024 polls only.
                    if spins & 1023 != 0 || DispatchTime.now().uptimeNanoseconds - since < spinNanoseconds { continue }
                    // Announce the sleep, then look once more: a caller that bumped the
                    // generation before seeing the flag is caught here, one after it signals.
                    sleeping.store(true, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                    sleeping.store(false, ordering: .sequentiallyConsistent)
                    since = DispatchTime.now().uptimeNanoseconds
                }
                seen = generation.load(ordering: .acquiring)
                if stopping.load(ordering: .sequentiallyConsistent) { return }
                task?(1)
                finished.store(seen, ordering: .releasing)
            }
        }
    }
}

@inline(__always) func spinPause() { sbn_cpu_relax() }
