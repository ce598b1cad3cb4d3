import Foundation
import SBNTensor
import Testing

@Suite struct FastMathTests {
    @Test func expAndLogMatchTheCLibrary() {
        var worstExp = 0.0, worstLog = 0.0
        for i in 0...20000 {
            let x = Double(Float(-80 + 160 * Double(i) / 20000))
            worstExp = max(worstExp, abs(Double(FastMath.exp(Float(x))) - Foundation.exp(x)) / Foundation.exp(x))
            let y = Foundation.exp(x / 4)
            worstLog = max(worstLog, abs(Double(FastMath.log(Float(y))) - Foundation.log(Double(Float(y)))))
        }
        #expect(worstExp < 1e-6)
        #expect(worstLog < 1e-6)
    }

    @Test func softplusAndSigmoidAreStableAtExtremes() {
        for x: Float in [-1000, -100, -30, -1, 0, 1, 30, 100, 1000] {
            let sp = Double(FastMath.softplus(x))
            let exact = max(Double(x), 0) + Foundation.log1p(Foundation.exp(-abs(Double(x))))
            #expect(sp.isFinite && abs(sp - exact) <= 1e-6 * max(1, abs(exact)))
            let s = FastMath.sigmoid(x)
            #expect(s >= 0 && s <= 1 && s.isFinite)
        }
        #expect(FastMath.softplus(1000) == 1000 && FastMath.softplus(-1000) >= 0)
    }
}
