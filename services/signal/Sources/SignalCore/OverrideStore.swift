public import Foundation
public import KarbonetesModels
import KarbonetesLocks

/// The demo overrides in force, by region, with when each was set. A class around a lock so
/// the engine that holds it stays a copyable value; a reader-writer lock because every
/// `/v1/signal` request reads it and only the demo writes it.
public final class OverrideStore: Sendable {
    private let overrides = ReadWriteLock<[String: (override: SignalOverride, setAt: Date)]>([:])

    public init() {}

    /// Replaces the region's override; `time` is reported as the override window's start.
    public func set(_ override: SignalOverride, at time: Date) {
        overrides.write { $0[override.region] = (override, time) }
    }

    public func clear(region: String) {
        _ = overrides.write { $0.removeValue(forKey: region) }
    }

    public func current(region: String) -> (override: SignalOverride, setAt: Date)? {
        overrides.read { $0[region] }
    }
}
