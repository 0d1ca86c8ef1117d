/// What a service knows about the grid when it decides: a signal, or why it has none.
public enum SignalReading: Sendable, Hashable {
    case available(CarbonSignal)
    case unavailable(reason: String)

    public var signal: CarbonSignal? {
        if case .available(let signal) = self { return signal }
        return nil
    }
}

/// Formats an intensity for annotations and messages: gCO2eq/kWh with at most one decimal.
enum IntensityText {
    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
