-- EMPI string-similarity functions: twins of src/empi/similarity.ts (a test checks they agree). Plain PL/pgSQL so that
-- both engines run them without extensions (PGlite loads contrib extensions only when built in; the server may lack them).
CREATE OR REPLACE FUNCTION empi_hamming1(a text, b text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE n int := length(a); d int := 0;
BEGIN
  IF n <> length(b) THEN RETURN false; END IF;
  FOR i IN 1..n LOOP
    IF substr(a, i, 1) <> substr(b, i, 1) THEN
      d := d + 1;
      IF d > 1 THEN RETURN false; END IF;
    END IF;
  END LOOP;
  RETURN d = 1;
END $$;

CREATE OR REPLACE FUNCTION empi_transposed(a text, b text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE n int := length(a); i int := 1;
BEGIN
  IF n <> length(b) THEN RETURN false; END IF;
  WHILE i <= n AND substr(a, i, 1) = substr(b, i, 1) LOOP i := i + 1; END LOOP;
  IF i >= n THEN RETURN false; END IF;
  IF substr(a, i, 1) <> substr(b, i + 1, 1) OR substr(a, i + 1, 1) <> substr(b, i, 1)
     OR substr(a, i, 1) = substr(a, i + 1, 1) THEN RETURN false; END IF;
  RETURN substr(a, i + 2) = substr(b, i + 2);
END $$;

CREATE OR REPLACE FUNCTION empi_edit1(a text, b text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE la int := length(a); lb int := length(b); i int := 1; j int := 1; e int := 0; x text; y text;
BEGIN
  IF abs(la - lb) > 1 THEN RETURN false; END IF;
  WHILE i <= la AND j <= lb LOOP
    x := substr(a, i, 1); y := substr(b, j, 1);
    IF x = y OR x = '?' OR y = '?' THEN
      i := i + 1; j := j + 1;
    ELSE
      e := e + 1;
      IF e > 1 THEN RETURN false; END IF;
      IF la > lb THEN i := i + 1;
      ELSIF lb > la THEN j := j + 1;
      ELSE i := i + 1; j := j + 1;
      END IF;
    END IF;
  END LOOP;
  e := e + (la - i + 1) + (lb - j + 1);
  RETURN e <= 1;
END $$;

CREATE OR REPLACE FUNCTION empi_jaro_winkler(a text, b text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  la int := length(a); lb int := length(b); rng int; m int := 0; t int := 0; k int := 1; p int := 0;
  am boolean[]; bm boolean[]; jaro double precision; lo int; hi int;
BEGIN
  IF a = b THEN RETURN CASE WHEN la > 0 THEN 1 ELSE 0 END; END IF;
  IF la = 0 OR lb = 0 THEN RETURN 0; END IF;
  rng := greatest(0, greatest(la, lb) / 2 - 1);
  am := array_fill(false, ARRAY[la]); bm := array_fill(false, ARRAY[lb]);
  FOR i IN 1..la LOOP
    lo := greatest(1, i - rng); hi := least(lb, i + rng);
    FOR j IN lo..hi LOOP
      IF NOT bm[j] AND substr(a, i, 1) = substr(b, j, 1) THEN
        am[i] := true; bm[j] := true; m := m + 1; EXIT;
      END IF;
    END LOOP;
  END LOOP;
  IF m = 0 THEN RETURN 0; END IF;
  FOR i IN 1..la LOOP
    IF am[i] THEN
      WHILE NOT bm[k] LOOP k := k + 1; END LOOP;
      IF substr(a, i, 1) <> substr(b, k, 1) THEN t := t + 1; END IF;
      k := k + 1;
    END IF;
  END LOOP;
  jaro := (m::double precision / la + m::double precision / lb + (m - t / 2.0) / m) / 3;
  WHILE p < 4 AND p < la AND p < lb AND substr(a, p + 1, 1) = substr(b, p + 1, 1) LOOP p := p + 1; END LOOP;
  RETURN jaro + p * 0.1 * (1 - jaro);
END $$;

-- ISO 7064 MOD 11-2 check character (as GB 11643), used for electronic health card numbers.
CREATE OR REPLACE FUNCTION empi_mod11_2(first17 text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT substr('10X98765432', (sum((substr(first17, i::int, 1))::int * w) % 11)::int + 1, 1)
  FROM unnest(ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]) WITH ORDINALITY AS t(w, i)
$$;

-- The surviving person of a chain of merges (empi_person.merged_into), or the person itself.
CREATE OR REPLACE FUNCTION empi_resolve(p text) RETURNS text
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE cur text := p; nxt text; n int := 0;
BEGIN
  LOOP
    SELECT merged_into INTO nxt FROM empi_person WHERE person_id = cur;
    EXIT WHEN nxt IS NULL OR n > 64;
    cur := nxt; n := n + 1;
  END LOOP;
  RETURN cur;
END $$;
