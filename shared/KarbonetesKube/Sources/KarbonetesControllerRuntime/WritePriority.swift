import Foundation
public import KarbonetesKubeClient
import Synchronization

/// Lets background writes (Events) give way to the writes that matter (a controller's
/// reconciles), so that a burst of releases never shares the API server with the Events
/// about them: the Events follow once the burst is over. client-go's event broadcaster is
/// asynchronous and low priority for the same reason.
///
/// Foreground work brackets itself with ``begin()`` and ``end()``; a background writer calls
/// ``waitForTurn()`` before each write, which returns once no foreground work has run for
/// `quietPeriod`, or after `maxDeferral` at the latest, so that a controller that is never
/// idle still writes its Events (one every `maxDeferral` while it stays busy).
///
/// The quiet period is short (20 ms) on purpose: a burst keeps every worker busy back to
/// back, so it has no such gap and its Events wait; a steadily loaded controller (timers of
/// thousands of held Jobs firing tens of times a second, each reconcile a millisecond) has
/// many, so its Events are not held back to one per `maxDeferral` and dropped.
public final class WritePriority: Sendable {
    public let quietPeriod: Duration
    public let maxDeferral: Duration
    private let clock: any KubeClock

    private struct State {
        var active = 0
        var lastEnded: Date
    }

    private let state: Mutex<State>

    public init(quietPeriod: Duration = .milliseconds(20), maxDeferral: Duration = .seconds(30), clock: any KubeClock = WallClock()) {
        self.quietPeriod = quietPeriod
        self.maxDeferral = maxDeferral
        self.clock = clock
        self.state = Mutex(State(lastEnded: .distantPast))
    }

    /// Foreground work started.
    public func begin() {
        state.withLock { $0.active += 1 }
    }

    /// Foreground work ended.
    public func end() {
        let now = clock.now()
        state.withLock { state in
            state.active = max(0, state.active - 1)
            state.lastEnded = now
        }
    }

    /// True when no foreground work runs and none ended within `quietPeriod`.
    public var isQuiet: Bool { quietFor(at: clock.now()) == nil }

    /// Nil when quiet; else how long to wait before looking again.
    private func quietFor(at now: Date) -> TimeInterval? {
        let quiet = quietPeriod.timeInterval
        return state.withLock { state -> TimeInterval? in
            if state.active > 0 { return quiet }
            let idle = now.timeIntervalSince(state.lastEnded)
            return idle >= quiet ? nil : quiet - idle
        }
    }

    /// Returns when background work may go: quiet, `maxDeferral` passed, or the task cancelled.
    public func waitForTurn() async {
        let giveUp = clock.now().addingTimeInterval(maxDeferral.timeInterval)
        while !Task.isCancelled {
            let now = clock.now()
            guard let wait = quietFor(at: now), now < giveUp else { return }
            do {
                try await clock.sleep(until: min(giveUp, now.addingTimeInterval(max(wait, 0.005))))
            } catch {
                return
            }
        }
    }
}
