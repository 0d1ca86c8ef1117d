import Foundation
public import KarbonetesKubeClient
public import KarbonetesLifecycle
import Synchronization

/// The queue between informers and reconcilers, with client-go's guarantees: a key is queued at
/// most once however often it is added; a key is handed to one worker at a time, and one added
/// again while a worker has it is handed out again after that worker calls ``done(_:)``; failed
/// keys come back after a per-key exponential backoff; delayed adds are timers on one heap,
/// fired by ``run()``, so ten thousand held Jobs cost ten thousand heap entries, not tasks.
///
/// Workers loop `while let key = await queue.get() { …; await queue.done(key) }`. After
/// ``shutDown()`` no key is accepted, queued keys are still handed out (the queue drains), and
/// `get()` returns nil once it is empty.
public actor WorkQueue<Key: Hashable & Sendable>: Service {
    private var queue: [Key] = []
    private var queueHead = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var shuttingDown = false
    private var limiter: ItemExponentialFailureRateLimiter<Key>

    private struct Timer: Comparable {
        var deadline: Date
        var sequence: Int
        var key: Key
        static func < (lhs: Timer, rhs: Timer) -> Bool { (lhs.deadline, lhs.sequence) < (rhs.deadline, rhs.sequence) }
        static func == (lhs: Timer, rhs: Timer) -> Bool { lhs.sequence == rhs.sequence }
    }

    private var timers = MinHeap<Timer>()
    /// The deadline each delayed key waits for; heap entries that disagree are stale.
    private var waiting: [Key: Date] = [:]
    private var timerSequence = 0

    /// Workers blocked in `get()`, and the timer loop blocked until the heap changes. Guarded
    /// by a mutex (not the actor) so that a cancelled task can resume its own continuation
    /// from its cancellation handler, which runs outside the actor.
    private let waiters = Mutex(Waiters())
    private struct Waiters: ~Copyable {
        var nextID = 0
        var workers: [(id: Int, continuation: CheckedContinuation<Key?, Never>)] = []
        var cancelled: Set<Int> = []
        var timerLoop: CheckedContinuation<Void, Never>?
        var timerLoopCancelled = false
    }

    private var drainWaiters: [CheckedContinuation<Void, Never>] = []

    public nonisolated let name: String
    private let clock: any KubeClock

    public init(
        name: String = "workqueue",
        rateLimiter: ItemExponentialFailureRateLimiter<Key> = ItemExponentialFailureRateLimiter(),
        clock: any KubeClock = WallClock()
    ) {
        self.name = name
        self.limiter = rateLimiter
        self.clock = clock
    }

    // MARK: Adding

    /// Queues the key unless it is queued already (or the queue is shutting down).
    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        guard !processing.contains(key) else { return }
        enqueue(key)
    }

    /// Queues the key once `delay` has passed; an earlier pending deadline for the same key is
    /// kept, a later one is moved forward.
    public func add(_ key: Key, after delay: Duration) {
        guard !shuttingDown else { return }
        guard delay > .zero else {
            add(key)
            return
        }
        let deadline = clock.now().addingTimeInterval(delay.timeInterval)
        if let existing = waiting[key], existing <= deadline { return }
        waiting[key] = deadline
        timerSequence += 1
        let wasEarliest = timers.peek.map { deadline < $0.deadline } ?? true
        timers.push(Timer(deadline: deadline, sequence: timerSequence, key: key))
        if wasEarliest { wakeTimerLoop() }
    }

    /// Queues the key after its backoff: 5 ms, 10 ms, 20 ms, … up to 1,000 s by default.
    public func addRateLimited(_ key: Key) {
        let delay = limiter.when(key)
        add(key, after: delay)
    }

    /// Resets the key's backoff, after it succeeded.
    public func forget(_ key: Key) { limiter.forget(key) }

    public func numRequeues(_ key: Key) -> Int { limiter.numRequeues(key) }

    // MARK: Working

    /// The next key, which the caller owns until ``done(_:)``; nil once shut down and drained,
    /// or when the calling task is cancelled.
    public func get() async -> Key? {
        if let key = dequeue() { return key }
        if shuttingDown { return nil }
        let id = waiters.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
                let cancelled = waiters.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil { return true }
                    state.workers.append((id, continuation))
                    return false
                }
                if cancelled { continuation.resume(returning: nil) }
            }
        } onCancel: {
            let continuation = waiters.withLock { state -> CheckedContinuation<Key?, Never>? in
                if let index = state.workers.firstIndex(where: { $0.id == id }) {
                    return state.workers.remove(at: index).continuation
                }
                state.cancelled.insert(id)
                return nil
            }
            continuation?.resume(returning: nil)
        }
    }

    /// Ends the caller's ownership of the key; a key added meanwhile is queued again now.
    public func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) {
            enqueue(key)
        } else if shuttingDown, processing.isEmpty, queueIsEmpty {
            finishDrain()
        }
    }

    // MARK: Shutting down

    /// Stops accepting keys and drops pending timers; queued keys are still handed out.
    public func shutDown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        timers = MinHeap()
        waiting.removeAll()
        let idle = waiters.withLock { state -> [CheckedContinuation<Key?, Never>] in
            defer { state.workers.removeAll() }
            return state.workers.map(\.continuation)
        }
        for continuation in idle { continuation.resume(returning: nil) }
        wakeTimerLoop()
        if processing.isEmpty, queueIsEmpty { finishDrain() }
    }

    /// Shuts down and returns once every queued key was handed out and every worker called
    /// `done`.
    public func shutDownAndDrain() async {
        shutDown()
        guard !(processing.isEmpty && queueIsEmpty) else { return }
        await withCheckedContinuation { drainWaiters.append($0) }
    }

    public var isShuttingDown: Bool { shuttingDown }
    /// Keys queued and not yet handed out.
    public var count: Int { queue.count - queueHead }
    /// Keys waiting for their delay.
    public var delayedCount: Int { waiting.count }
    public var processingCount: Int { processing.count }

    // MARK: The timer loop

    /// Fires delayed adds when their time comes; returns once shut down or cancelled. Run it
    /// next to the workers (it is a ``Service``).
    public func run() async {
        while !shuttingDown, !Task.isCancelled {
            fireDueTimers()
            let deadline = timers.peek?.deadline
            let clock = self.clock
            await withTaskGroup(of: Void.self) { group in
                if let deadline {
                    group.addTask { try? await clock.sleep(until: deadline) }
                }
                group.addTask { await self.waitForTimerChange() }
                await group.next()
                group.cancelAll()
            }
            waiters.withLock { $0.timerLoopCancelled = false }
        }
    }

    private nonisolated func waitForTimerChange() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = waiters.withLock { state -> Bool in
                    if state.timerLoopCancelled { return true }
                    state.timerLoop = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = waiters.withLock { state -> CheckedContinuation<Void, Never>? in
                state.timerLoopCancelled = true
                defer { state.timerLoop = nil }
                return state.timerLoop
            }
            continuation?.resume()
        }
    }

    private func wakeTimerLoop() {
        let continuation = waiters.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.timerLoop = nil }
            if state.timerLoop == nil { state.timerLoopCancelled = true }
            return state.timerLoop
        }
        continuation?.resume()
    }

    private func fireDueTimers() {
        let now = clock.now()
        while let next = timers.peek, next.deadline <= now {
            _ = timers.pop()
            guard waiting[next.key] == next.deadline else { continue }
            waiting.removeValue(forKey: next.key)
            add(next.key)
        }
    }

    // MARK: Internals

    private var queueIsEmpty: Bool { queueHead == queue.count }

    private func enqueue(_ key: Key) {
        let worker = waiters.withLock { state -> CheckedContinuation<Key?, Never>? in
            state.workers.isEmpty ? nil : state.workers.removeFirst().continuation
        }
        if let worker {
            dirty.remove(key)
            processing.insert(key)
            worker.resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    private func dequeue() -> Key? {
        guard !queueIsEmpty else { return nil }
        let key = queue[queueHead]
        queueHead += 1
        if queueHead > 1024, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        dirty.remove(key)
        processing.insert(key)
        return key
    }

    private func finishDrain() {
        let waiting = drainWaiters
        drainWaiters = []
        for continuation in waiting { continuation.resume() }
    }
}

/// A binary min-heap: the timer store, O(log n) per add.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    var peek: Element? { items.first }
    var count: Int { items.count }

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = parent * 2 + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
