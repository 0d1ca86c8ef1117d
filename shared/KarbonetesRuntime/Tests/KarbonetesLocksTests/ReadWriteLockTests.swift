import Foundation
import KarbonetesLocks
import Testing

@Suite("ReadWriteLock")
struct ReadWriteLockTests {
    @Test("concurrent readers and writers see every write exactly once and never a torn value")
    func concurrentReadersAndWriters() async {
        // Two fields that writers keep equal: a reader that saw them differ saw a torn write.
        let lock = ReadWriteLock((a: 0, b: 0))
        let writes = 2_000
        let torn = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<writes / 2 {
                        lock.write { pair in
                            pair.a += 1
                            pair.b += 1
                        }
                    }
                    return 0
                }
            }
            for _ in 0..<4 {
                group.addTask {
                    var torn = 0
                    for _ in 0..<20_000 where lock.read({ $0.a != $0.b }) { torn += 1 }
                    return torn
                }
            }
            return await group.reduce(0, +)
        }
        #expect(torn == 0)
        #expect(lock.read { $0.a } == writes)
    }

    @Test("a writer gets in while readers keep arriving")
    func writerIsNotStarved() {
        let lock = ReadWriteLock(0)
        let stop = ReadWriteLock(false)
        let readers = (0..<4).map { _ in
            Thread {
                while !stop.read({ $0 }) { _ = lock.read { $0 } }
            }
        }
        readers.forEach { $0.start() }
        let started = Date()
        for _ in 0..<100 { lock.write { $0 += 1 } }
        let elapsed = Date().timeIntervalSince(started)
        stop.write { $0 = true }
        #expect(lock.read { $0 } == 100)
        #expect(elapsed < 5, "100 writes took \(elapsed) s beside busy readers")
    }
}
