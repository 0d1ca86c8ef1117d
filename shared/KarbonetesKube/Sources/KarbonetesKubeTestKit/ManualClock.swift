public import Foundation
public import KarbonetesKubeClient
import Synchronization

/// A clock that moves only when a test says so, so that a 1,000 s backoff or a 15 s lease
/// takes no time at all. Sleepers wake in deadline order when `advance` passes their deadline.
public final class ManualClock: KubeClock {
    private struct Sleeper {
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state: Mutex<State>

    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Mutex(State(now: start))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// How many tasks are asleep on this clock: a test waits for the code under test to reach
    /// its sleep before it advances time.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until.
    public var nextDeadline: Date? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    public func sleep(until deadline: Date) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    if Task.isCancelled {
                        return true
                    }
                    if deadline <= state.now { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time on and wakes everyone whose deadline has come.
    public func advance(by duration: Duration) {
        let due: [Sleeper] = state.withLock { state in
            state.now = state.now.addingTimeInterval(duration.timeInterval)
            let now = state.now
            let dueIDs = state.sleepers.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }.map(\.key)
            return dueIDs.compactMap { state.sleepers.removeValue(forKey: $0) }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time to the earliest sleeper's deadline (if any) and wakes it.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let next = nextDeadline else { return false }
        let delta = max(0, next.timeIntervalSince(now()))
        advance(by: Duration(timeInterval: delta))
        return true
    }

    /// Waits (in real time, briefly) until at least `count` tasks sleep on this clock; fails
    /// after `timeout` so a broken test does not hang.
    public func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(5)) async throws {
        let start = ContinuousClock.now
        while sleeperCount < count {
            if ContinuousClock.now - start > timeout {
                throw ManualClockTimeout(expected: count, actual: sleeperCount)
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

extension ManualClock {
    /// Waits (in real time) until the code under test has gone quiet: at least one sleeper, and
    /// the number of sleepers unchanged over a few milliseconds. For tests with several
    /// concurrent sleepers whose exact count is an implementation detail.
    public func settle(timeout: Duration = .seconds(5)) async throws {
        let start = ContinuousClock.now
        var last = -1
        var stableRounds = 0
        while stableRounds < 4 {
            if ContinuousClock.now - start > timeout { throw ManualClockTimeout(expected: 1, actual: sleeperCount) }
            try await Task.sleep(for: .milliseconds(5))
            let current = sleeperCount
            if current == last, current > 0 {
                stableRounds += 1
            } else {
                stableRounds = 0
            }
            last = current
        }
    }

    /// Advances in steps, letting the code under test settle before each step.
    public func advance(by total: Duration, step: Duration) async throws {
        var moved = Duration.zero
        while moved < total {
            try await settle()
            let next = min(step, total - moved)
            advance(by: next)
            moved += next
        }
    }
}

/// The code under test never went to sleep on the manual clock.
public struct ManualClockTimeout: Error, CustomStringConvertible {
    public let expected: Int
    public let actual: Int
    public var description: String { "manual clock: expected \(expected) sleepers, have \(actual)" }
}
