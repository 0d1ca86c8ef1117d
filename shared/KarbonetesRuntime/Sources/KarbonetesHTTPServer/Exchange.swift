import Foundation
import KarbonetesHTTP
import KarbonetesTLS
import Synchronization

/// A connection thread as a `TaskExecutor`: the handler task of each request on the connection
/// prefers it, so a request is parsed, handled and answered on one thread with no hop to the
/// cooperative pool and back (the hop that costs most under load). A handler that awaits
/// other work (the Kubernetes client) resumes here too. The thread runs the jobs while it waits
/// for the response, so it is never idle while its handler could run.
final class ConnectionExecutor: TaskExecutor, @unchecked Sendable {
    let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    /// While a stream is sent the thread waits in `poll` on the socket too, so new jobs and
    /// messages also signal this pipe.
    var wakePipe: WakePipe?

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        let pipe = wakePipe
        condition.signal()
        condition.unlock()
        pipe?.signal()
    }

    /// With the lock held: the next job, if any.
    func takeJobLocked() -> UnownedJob? {
        jobs.isEmpty ? nil : jobs.removeFirst()
    }

    func run(_ job: UnownedJob) { job.runSynchronously(on: asUnownedTaskExecutor()) }
}

/// One request handed from a connection thread to its handler task, and the way back for the
/// response, guarded by the connection executor's lock.
final class Exchange: @unchecked Sendable {
    enum Message {
        case complete(HTTPResponse)
        case streamHead(HTTPResponse)
        case chunk(Data)
        case end
    }

    let request: HTTPRequest
    let executor: ConnectionExecutor
    private var condition: NSCondition { executor.condition }
    private var messages: [Message] = []
    private var queuedBytes = 0
    private var gone = false
    private var taskFinished = false
    private var goneWaiter: CheckedContinuation<Void, Never>?
    private var stopWaiting = false

    /// Queued stream bytes over this mean the client does not keep up: it is dropped rather than
    /// buffered without bound.
    static let maxQueuedBytes = 8 * 1024 * 1024

    init(request: HTTPRequest, executor: ConnectionExecutor) {
        self.request = request
        self.executor = executor
    }

    // MARK: handler side

    /// False once the client is gone; the sender should stop.
    @discardableResult
    func send(_ message: Message) -> Bool {
        condition.lock()
        if gone {
            condition.unlock()
            return false
        }
        if case .chunk(let data) = message {
            queuedBytes += data.count
            if queuedBytes > Self.maxQueuedBytes {
                gone = true
                let waiter = goneWaiter
                goneWaiter = nil
                condition.unlock()
                waiter?.resume()
                return false
            }
        }
        messages.append(message)
        let pipe = executor.wakePipe
        condition.signal()
        condition.unlock()
        pipe?.signal()
        return true
    }

    func finishTask() {
        condition.lock()
        taskFinished = true
        condition.signal()
        condition.unlock()
    }

    /// Returns when the client went away, or when the caller's task is cancelled.
    func waitUntilGone() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.lock()
                if gone || stopWaiting {
                    condition.unlock()
                    continuation.resume()
                    return
                }
                goneWaiter = continuation
                condition.unlock()
            }
        } onCancel: {
            condition.lock()
            stopWaiting = true
            let waiter = goneWaiter
            goneWaiter = nil
            condition.unlock()
            waiter?.resume()
        }
    }

    // MARK: connection side

    func markGone() {
        condition.lock()
        gone = true
        let waiter = goneWaiter
        goneWaiter = nil
        condition.unlock()
        waiter?.resume()
    }

    /// Runs the handler's jobs on this thread until a message is there.
    func receive() -> Message {
        condition.lock()
        while true {
            if !messages.isEmpty {
                let message = popLocked()
                condition.unlock()
                return message
            }
            if let job = executor.takeJobLocked() {
                condition.unlock()
                executor.run(job)
                condition.lock()
                continue
            }
            condition.wait()
        }
    }

    /// Runs jobs that are ready and returns the next message if one is queued (stream mode).
    func poll() -> Message? {
        condition.lock()
        while true {
            if !messages.isEmpty {
                let message = popLocked()
                condition.unlock()
                return message
            }
            guard let job = executor.takeJobLocked() else {
                condition.unlock()
                return nil
            }
            condition.unlock()
            executor.run(job)
            condition.lock()
        }
    }

    /// Runs the handler's remaining jobs until its task has returned, so that no task is left
    /// on an executor nobody runs.
    func runUntilTaskFinished() {
        condition.lock()
        while !taskFinished {
            if let job = executor.takeJobLocked() {
                condition.unlock()
                executor.run(job)
                condition.lock()
                continue
            }
            condition.wait()
        }
        condition.unlock()
    }

    private func popLocked() -> Message {
        let message = messages.removeFirst()
        if case .chunk(let data) = message { queuedBytes -= data.count }
        return message
    }
}

/// Resumes every waiter once the server starts shutting down, so that streamed responses end.
final class ShutdownSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns on shutdown, or when the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
