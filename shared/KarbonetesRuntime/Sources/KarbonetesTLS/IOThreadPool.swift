import Foundation

/// Dedicated threads for blocking socket and TLS work, so that none of it runs on Swift's
/// cooperative pool (two threads here). Grows when every thread is busy, and a thread idle for
/// `idleTimeout` exits, so a burst of connections does not leave threads behind.
package final class IOThreadPool: @unchecked Sendable {
    package static let shared = IOThreadPool(name: "karbonetes-io")

    private let name: String
    private let idleTimeout: Double
    private let stackSize: Int
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var jobsHead = 0
    private var idleThreads = 0
    private var threadCount = 0

    package init(name: String, idleTimeout: Double = 30, stackSize: Int = 8 * 1024 * 1024) {
        self.name = name
        self.idleTimeout = idleTimeout
        self.stackSize = stackSize
    }

    /// The number of live threads, for tests and metrics.
    package var liveThreads: Int {
        condition.lock()
        defer { condition.unlock() }
        return threadCount
    }

    /// Runs `job` on a pool thread; it may block for as long as its deadlines allow.
    package func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let spawn = idleThreads < jobs.count - jobsHead
        if spawn { threadCount += 1 }
        let wake = idleThreads > 0
        condition.unlock()
        // Signalled after the unlock: a thread woken while the lock is held wakes only to block
        // on it again, a second context switch per request (perf: lock waits in every client
        // call). An idle thread counted above is inside `wait`, so the signal is not lost.
        if wake { condition.signal() }
        if spawn {
            let thread = Thread { [self] in work() }
            thread.name = name
            thread.stackSize = stackSize
            thread.start()
        }
    }

    /// Runs blocking `body` on a pool thread and resumes the caller with its result.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    private func work() {
        condition.lock()
        while true {
            while jobsHead == jobs.count {
                idleThreads += 1
                let signalled = condition.wait(until: Date(timeIntervalSinceNow: idleTimeout))
                idleThreads -= 1
                if !signalled && jobsHead == jobs.count {
                    threadCount -= 1
                    condition.unlock()
                    return
                }
            }
            let job = jobs[jobsHead]
            jobsHead += 1
            if jobsHead > 64 && jobsHead * 2 > jobs.count {
                jobs.removeFirst(jobsHead)
                jobsHead = 0
            }
            condition.unlock()
            job()
            condition.lock()
        }
    }
}
