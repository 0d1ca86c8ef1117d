public import Foundation

/// Where the service reads the time. Injected everywhere a decision depends on "now" (cache
/// ages, windows, trace replay), so that tests move time instead of sleeping.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The process's real clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Date { Date() }
}
