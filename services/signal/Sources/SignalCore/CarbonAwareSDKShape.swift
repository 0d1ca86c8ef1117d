public import Foundation

/// One element of the Carbon Aware SDK WebAPI's `GET /emissions/forecasts/current` answer
/// (`EmissionsForecastDTO`), so the SDK's clients can use this service unchanged.
public struct CarbonAwareEmissionsForecast: Sendable, Codable, Hashable {
    /// The SDK's `EmissionsDataDTO`: one value over `duration` minutes from `timestamp`.
    public struct DataPoint: Sendable, Codable, Hashable {
        public var location: String
        public var timestamp: Date
        /// Minutes.
        public var duration: Int
        /// gCO2eq/kWh (the SDK's unit is gCO2/kWh; the SDK uses the same number).
        public var value: Double

        public init(location: String, timestamp: Date, duration: Int, value: Double) {
            self.location = location
            self.timestamp = timestamp
            self.duration = duration
            self.value = value
        }
    }

    public var generatedAt: Date
    public var requestedAt: Date
    public var location: String
    public var dataStartAt: Date
    public var dataEndAt: Date
    /// Minutes.
    public var windowSize: Int
    public var optimalDataPoints: [DataPoint]
    public var forecastData: [DataPoint]

    public init(
        generatedAt: Date, requestedAt: Date, location: String, dataStartAt: Date, dataEndAt: Date, windowSize: Int,
        optimalDataPoints: [DataPoint], forecastData: [DataPoint]
    ) {
        self.generatedAt = generatedAt
        self.requestedAt = requestedAt
        self.location = location
        self.dataStartAt = dataStartAt
        self.dataEndAt = dataEndAt
        self.windowSize = windowSize
        self.optimalDataPoints = optimalDataPoints
        self.forecastData = forecastData
    }
}
