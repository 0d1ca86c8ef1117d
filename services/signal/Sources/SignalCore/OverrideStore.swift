public import Foundation
public import KarbonetesModels
import Synchronization

/// The demo overrides in force, by region, with when each was set. A class around a `Mutex`
/// so the engine that holds it stays a copyable value.
public final class OverrideStore: Sendable {
    private let overrides = Mutex<[String: (override: SignalOverride, setAt: Date)]>([:])

    public init() {}

    /// Replaces the region's override; `time` is reported as the override window's start.
    public func set(_ override: SignalOverride, at time: Date) {
        overrides.withLock { $0[override.region] = (override, time) }
    }

    public func clear(region: String) {
        _ = overrides.withLock { $0.removeValue(forKey: region) }
    }

    public func current(region: String) -> (override: SignalOverride, setAt: Date)? {
        overrides.withLock { $0[region] }
    }
}
