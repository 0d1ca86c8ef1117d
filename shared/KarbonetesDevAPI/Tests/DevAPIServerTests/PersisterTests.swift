@testable import DevAPIServer
import Testing

@Suite("Data file persister")
struct PersisterTests {
    @Test("the pause after a write is the interval, or nine times the write's cost when that is longer", arguments: [
        (cost: Duration.milliseconds(10), want: Duration.milliseconds(500)),
        (cost: Duration.milliseconds(100), want: Duration.milliseconds(900)),
        (cost: Duration.seconds(1), want: Duration.seconds(9)),
    ])
    func pause(cost: Duration, want: Duration) {
        #expect(StorePersister.pause(after: cost, interval: .milliseconds(500)) == want)
    }
}
