public import Foundation
import KarbonetesModels
public import SignalCore
import Synchronization

/// A provider whose answers a test scripts: succeed with a fixed reading, or fail, and count
/// the calls, so the cache's behaviour is observable.
public final class ScriptedProvider: CarbonProvider {
    public enum Behaviour: Sendable {
        case answer(intensity: Double, green: Bool)
        case fail(ProviderError)
    }

    private let state: Mutex<(behaviour: Behaviour, calls: Int)>
    public let kind: String

    public init(kind: String = "scripted", _ behaviour: Behaviour) {
        self.kind = kind
        state = Mutex((behaviour, 0))
    }

    public var calls: Int { state.withLock { $0.calls } }

    public func set(_ behaviour: Behaviour) { state.withLock { $0.behaviour = behaviour } }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        let behaviour = state.withLock { state -> Behaviour in
            state.calls += 1
            return state.behaviour
        }
        switch behaviour {
        case .fail(let error):
            throw error
        case .answer(let intensity, let green):
            let hour = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
            let points = (0..<48).map { offset in
                let start = hour.addingTimeInterval(Double(offset) * 3600)
                return ForecastPoint(
                    start: start, end: start.addingTimeInterval(3600), intensity: intensity + Double(offset),
                    green: green)
            }
            return ProviderSnapshot(
                current: CurrentReading(
                    intensity: intensity, green: green, rule: "scripted", windowStart: hour,
                    windowEnd: hour.addingTimeInterval(48 * 3600)),
                forecast: points,
                observedAt: now,
                source: kind
            )
        }
    }
}
