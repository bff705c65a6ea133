//! The two-sided one-sample Kolmogorov–Smirnov distribution for finite n — `scipy.stats.kstwo.sf`,
//! which `scipy.stats.ks_2samp` uses (with n = round(n₁n₂/(n₁+n₂))) when the samples are too large
//! for the exact two-sample count. The same branches as scipy's `_kolmogn` (Simard & L'Ecuyer 2011):
//! Ruben–Gambino closed forms at the ends, twice the one-sided Smirnov tail (Birnbaum–Tingey sum)
//! where that is exact or accurate, the Durbin matrix (Marsaglia–Tsang–Wang) for small n·d^1.5,
//! and the Pelz–Good series otherwise.

use std::f64::consts::PI;

use statrs::function::gamma::ln_gamma;

/// `P(D_n > x)` for the two-sided statistic.
pub fn kstwo_sf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        // n!/n^n · (2t − 1)^n
        let cdf = (ln_gamma(nf + 1.0) - nf * nf.ln() + nf * (2.0 * t - 1.0).ln()).exp();
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    let nx2 = t * x;
    if n <= 140 {
        if nx2 < 4.0 {
            return (1.0 - durbin_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    if nx2 >= 370.0 {
        return 0.0;
    }
    if nx2 >= 2.2 {
        return (2.0 * smirnov(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 { durbin_cdf(n, x) } else { pelz_good_cdf(n, x) };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// One-sided `P(D⁺_n > x)` by the Birnbaum–Tingey sum, term by term in logs.
pub fn smirnov(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let last = (nf * (1.0 - x)).floor() as u64;
    let ln_n_fact = ln_gamma(nf + 1.0);
    let mut sum = 0.0;
    for v in 0..=last {
        let vf = v as f64;
        let evn = x + vf / nf;
        let omevn = 1.0 - evn;
        if omevn <= 0.0 && n > v {
            continue;
        }
        let log_term = ln_n_fact - ln_gamma(vf + 1.0) - ln_gamma(nf - vf + 1.0)
            + (vf - 1.0) * evn.ln()
            + if n > v { (nf - vf) * omevn.ln() } else { 0.0 };
        if log_term > -745.0 {
            sum += log_term.exp();
        }
    }
    sum * x
}

/// Pelz–Good approximation of `P(D_n ≤ x)`.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let qlog = -pi2 / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let (k1a, k1b) = (-z2, pi2 / 4.0);
    let (k2a, k2b, k2c) = (6.0 * z6 + 2.0 * z4, (2.0 * z4 - 5.0 * z2) * pi2 / 4.0, pi4 * (1.0 - 2.0 * z2) / 16.0);
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf(8.0 * kk as f64);
        let coeffs = [1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
        for (ki, c) in k.iter_mut().zip(coeffs) {
            *ki = *ki * qpower + c;
        }
    }
    let sqrt2pi = (2.0 * PI).sqrt();
    let divisors = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (ki, d) in k.iter_mut().zip(divisors) {
        *ki = *ki * q * sqrt2pi / d;
    }
    let q = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    for kk in (1..=maxk).rev() {
        let kf = kk as f64;
        let qp = q.powf(kf * kf);
        let kspi = PI * kf;
        k2extra += kf * kf * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * kf * kf * qp;
    }
    k[2] += k2extra * pi2 * sqrt2pi / (-36.0 * z3);
    k[3] += k3extra * pi2 * sqrt2pi / (216.0 * z6);
    (0..4).map(|i| k[i] / nf.powf(i as f64 / 2.0)).sum()
}

/// `P(D_n ≤ d)` by the Durbin matrix method (Marsaglia, Tsang, Wang 2003), with 2^128 rescaling.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let matmul = |a: &[f64], b: &[f64]| {
        let mut out = vec![0.0; m * m];
        for i in 0..m {
            for l in 0..m {
                let x = a[i * m + l];
                if x != 0.0 {
                    for j in 0..m {
                        out[i * m + j] += x * b[l * m + j];
                    }
                }
            }
        }
        out
    };
    let big = 2f64.powi(128);
    let mut power: Vec<f64> = (0..m * m).map(|i| if i / m == i % m { 1.0 } else { 0.0 }).collect();
    let (mut nn, mut expnt, mut hexpnt) = (n, 0i64, 0i64);
    while nn > 0 {
        if nn % 2 == 1 {
            power = matmul(&power, &hm);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > big {
            for x in &mut hm {
                *x /= big;
            }
            hexpnt += 128;
        }
        nn /= 2;
    }
    let mut p = power[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = i as f64 * p / n as f64;
        if p.abs() < 1.0 / big {
            p *= big;
            expnt -= 128;
        }
    }
    ldexp(p, expnt).clamp(0.0, 1.0)
}

/// `p · 2^e` without overflowing the intermediate power of two.
fn ldexp(mut p: f64, mut e: i64) -> f64 {
    while e > 1000 {
        p *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        p *= 2f64.powi(-1000);
        e += 1000;
    }
    p * 2f64.powi(e as i32)
}
