#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell
%%
%% The Erlang side of the term oracle (tests/term_oracle_test.c).
%%
%%   term_oracle.erl gen SEED COUNT VECTORS OUT
%%       writes COUNT random terms, each as term_to_binary/2 with several
%%       options, OTP's order of the terms, and the OTP 25 vectors
%%       re-encoded with minor_version 2, to the file OUT.
%%   term_oracle.erl verify IN
%%       reads pairs (OTP's bytes, straw's bytes) and checks that
%%       binary_to_term gives =:= terms; exits 1 on any mismatch.
%%   term_oracle.erl accepts IN OUT
%%       reads terms and writes one byte for each: 1 if binary_to_term/1
%%       reads it, 0 if it refuses it (badarg).
%%
%% File layout (integers big-endian):
%%   gen:    u32 N, N x (u8 bigmap, u8 V, V x (u32 len, bytes)),
%%           u32 P, P x (u32 i, u32 j, s8 cmp, u8 exact),
%%           u32 M, M x (u8 bigmap, u32 len, bytes, u32 len, bytes)
%%   verify: u32 N, N x (u32 len, bytes, u32 len, bytes)
%%   accepts: u32 N, N x (u32 len, bytes) in, N bytes (0 or 1) out
-mode(compile).

main(["gen", Seed, Count, Vectors, Out]) ->
    S = list_to_integer(Seed),
    rand:seed(exsss, {S, S * 7 + 1, S * 13 + 2}),
    N = list_to_integer(Count),
    Terms = fixed() ++ [top() || _ <- lists:seq(1, N)],
    Recs = [record(T) || T <- Terms],
    Indexed = lists:zip(Terms, lists:seq(0, length(Terms) - 1)),
    Sorted = lists:sort(fun({A, I}, {B, J}) ->
                                if A < B -> true;
                                   A == B -> I =< J;
                                   true -> false
                                end
                        end, Indexed),
    Pairs = pairs(Sorted),
    Vecs = vectors(Vectors),
    ok = file:write_file(Out, [<<(length(Terms)):32>>, Recs,
                               <<(length(Pairs)):32>>, Pairs,
                               <<(length(Vecs)):32>>, Vecs]),
    halt(0);
main(["verify", In]) ->
    {ok, Bin} = file:read_file(In),
    <<N:32, Rest/binary>> = Bin,
    Bad = verify(N, Rest, 0),
    io:format("erl: ~b of ~b straw encodings differ~n", [Bad, N]),
    halt(if Bad =:= 0 -> 0; true -> 1 end);
main(["accepts", In, Out]) ->
    {ok, Bin} = file:read_file(In),
    <<N:32, Rest/binary>> = Bin,
    ok = file:write_file(Out, accepts(N, Rest)),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: term_oracle.erl gen|verify|accepts ...~n", []),
    halt(2).

record(T) ->
    Vs = [term_to_binary(T, [{minor_version, 2}]),
          term_to_binary(T),
          term_to_binary(T, [{minor_version, 1}]),
          term_to_binary(T, [{minor_version, 0}]),
          term_to_binary(T, [compressed]),
          term_to_binary(T, [{compressed, 9}, {minor_version, 2}]),
          term_to_binary(T, [deterministic])],
    [<<(bool(bigmap(T))):8, (length(Vs)):8>>,
     [<<(byte_size(V)):32, V/binary>> || V <- Vs]].

pairs([{A, I}, {B, J} | Rest]) ->
    Cmp = if A < B -> -1; A == B -> 0; true -> 1 end,
    [<<I:32, J:32, Cmp:8/signed, (bool(A =:= B)):8>> | pairs([{B, J} | Rest])];
pairs(_) ->
    [].

vectors(File) ->
    {ok, Text} = file:read_file(File),
    Lines = binary:split(Text, <<"\n">>, [global]),
    [vector(H) || L <- Lines, [_, H] <- [binary:split(L, <<"\t">>)],
                  binary:first(L) =/= $%].

vector(Hex) ->
    In = binary:decode_hex(string:trim(Hex)),
    T = binary_to_term(In),
    Out = term_to_binary(T, [{minor_version, 2}]),
    <<(bool(bigmap(T))):8, (byte_size(In)):32, In/binary,
      (byte_size(Out)):32, Out/binary>>.

verify(0, _, Bad) ->
    Bad;
verify(N, <<L1:32, A:L1/binary, L2:32, B:L2/binary, Rest/binary>>, Bad) ->
    Ok = try binary_to_term(A) =:= binary_to_term(B)
         catch _:_ -> false
         end,
    case Ok of
        true -> verify(N - 1, Rest, Bad);
        false ->
            io:format("erl: mismatch:~n  ~w~n  ~w~n", [A, B]),
            verify(N - 1, Rest, Bad + 1)
    end.

%% One byte per term: 1 if binary_to_term/1 reads it, else 0.
accepts(0, <<>>) ->
    [];
accepts(N, <<L:32, T:L/binary, Rest/binary>>) ->
    Ok = try binary_to_term(T) of _ -> 1 catch error:badarg -> 0 end,
    [Ok | accepts(N - 1, Rest)].

bool(true) -> 1;
bool(false) -> 0.

bigmap(T) when is_map(T) ->
    map_size(T) > 32 orelse
        lists:any(fun bigmap/1, maps:keys(T) ++ maps:values(T));
bigmap(T) when is_tuple(T) ->
    lists:any(fun bigmap/1, tuple_to_list(T));
bigmap(F) when is_function(F) ->
    {env, Env} = erlang:fun_info(F, env),
    bigmap(Env);
bigmap([H | T]) ->
    bigmap(H) orelse bigmap(T);
bigmap(_) ->
    false.

%% Terms at the edges of the encodings, in every run.
fixed() ->
    [lists:duplicate(65535, $s), lists:duplicate(65536, $s), [], "a",
     [255 | lists:duplicate(65534, 0)], lists:seq(1, 300),
     255, 256, -1, 2147483647, 2147483648, -2147483648, -2147483649,
     1 bsl 2040, -(1 bsl 2040), 1 bsl 2048, 0.0, -0.0, 1.0, 1,
     '', list_to_atom(lists:duplicate(255, 26085)),
     list_to_atom(lists:duplicate(255, $é)),
     <<>>, <<1:1>>, <<255, 7:3>>, {}, #{},
     maps:from_list([{I, I} || I <- lists:seq(1, 32)]),
     maps:from_list([{I, I} || I <- lists:seq(1, 33)]),
     list_to_tuple(lists:seq(1, 255)), list_to_tuple(lists:seq(1, 256))].

%% Random terms, nested up to 4 levels; a few big ones.
top() ->
    case rand:uniform(400) of
        1 -> lists:duplicate(65535 + rand:uniform(2) - 1, $s);
        2 -> lists:seq(1, 70000 + rand:uniform(10));
        _ -> term(4)
    end.

term(0) ->
    leaf();
term(D) ->
    case rand:uniform(20) of
        N when N =< 9 -> leaf();
        10 -> list_to_tuple([term(D - 1) || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        11 -> [term(D - 1) || _ <- lists:seq(1, rand:uniform(5) - 1)];
        12 -> improper(D);
        13 -> string();
        14 -> maps:from_list([{term(D - 1), term(D - 1)} || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        15 -> maps:from_list([{key(), leaf()} || _ <- lists:seq(1, 32 + rand:uniform(8))]);
        16 -> list_to_tuple([number() || _ <- lists:seq(1, 250 + rand:uniform(10))]);
        17 -> closure(term(D - 1));
        18 -> [[term(D - 1)]];
        19 -> {term(D - 1), leaf()};
        _ -> number()
    end.

improper(D) ->
    Tail = case rand:uniform(3) of
               1 -> atom();
               2 -> number();
               3 -> term(D - 1)
           end,
    case Tail of
        [_ | _] -> [leaf() | leaf()];
        [] -> [leaf() | atom()];
        _ -> lists:foldl(fun(E, Acc) -> [E | Acc] end, Tail,
                         [term(D - 1) || _ <- lists:seq(1, rand:uniform(3))])
    end.

key() ->
    case rand:uniform(3) of
        1 -> rand:uniform(1000);
        2 -> atom();
        3 -> float(rand:uniform(100))
    end.

leaf() ->
    case rand:uniform(16) of
        N when N =< 4 -> number();
        5 -> atom();
        6 -> atom();
        7 -> binary();
        8 -> bitstring();
        9 -> string();
        10 -> [];
        11 -> {};
        12 -> pid();
        13 -> ref();
        14 -> port();
        15 -> export();
        16 -> #{}
    end.

number() ->
    case rand:uniform(14) of
        1 -> rand:uniform(256) - 1;
        2 -> -rand:uniform(300);
        3 -> rand:uniform(1 bsl 31) - (1 bsl 30) * 2;
        4 -> (1 bsl 31) + rand:uniform(1 bsl 40);
        5 -> -(1 bsl 31) - rand:uniform(1 bsl 40);
        6 -> rand:uniform(1 bsl 64) * sign();
        7 -> (rand:uniform(1 bsl 64) bsl rand:uniform(2100)) * sign();
        8 -> 1 bsl 2040;
        9 -> (rand:uniform() - 0.5) * math:pow(10, rand:uniform(600) - 300);
        10 -> float(rand:uniform(2000) - 1000);
        11 -> pick([0.0, -0.0, 1.0, -1.0, 0.5, 1.0e300, 5.0e-324,
                    9007199254740992.0, 9007199254740993, 9007199254740992,
                    1.8446744073709552e19, 18446744073709551616,
                    18446744073709551615, 1.0e20, 100000000000000000000]);
        12 -> rand:uniform(10);
        13 -> float(rand:uniform(10));
        14 -> math:pow(2, rand:uniform(1023)) * sign()
    end.

sign() ->
    pick([1, -1]).

pick(L) ->
    lists:nth(rand:uniform(length(L)), L).

atom() ->
    case rand:uniform(6) of
        1 -> pick([ok, error, true, false, undefined, '', 'a b', 'Quoted']);
        2 -> list_to_atom([rand:uniform(26) + $a - 1 || _ <- lists:seq(1, rand:uniform(12))]);
        3 -> list_to_atom([pick([$é, $ü, $ß, $ÿ, $x, $À]) || _ <- lists:seq(1, rand:uniform(8))]);
        4 -> list_to_atom([pick([26085, 26412, 35486, 955, 1046, 128512, $a]) || _ <- lists:seq(1, rand:uniform(8))]);
        5 -> list_to_atom(lists:duplicate(255, pick([$a, $é, 26085])));
        6 -> list_to_atom([rand:uniform(255) || _ <- lists:seq(1, rand:uniform(20))])
    end.

binary() ->
    case rand:uniform(4) of
        1 -> <<>>;
        2 -> rand:bytes(rand:uniform(40));
        3 -> rand:bytes(rand:uniform(300));
        4 -> <<"abc">>
    end.

bitstring() ->
    Bits = rand:uniform(7),
    B = rand:bytes(rand:uniform(6) - 1),
    <<B/binary, (rand:uniform(1 bsl Bits) - 1):Bits>>.

string() ->
    case rand:uniform(5) of
        1 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(30))];
        2 -> "hello";
        3 -> [rand:uniform(300) || _ <- lists:seq(1, rand:uniform(10))];
        4 -> [$a, $b | [$c]];
        5 -> [255, 0, 256]
    end.

node_name() ->
    pick(['nonode@nohost', 'other@host', 'a@b', 'zed@127.0.0.1']).

pid() ->
    case rand:uniform(3) of
        1 -> self();
        2 -> list_to_pid("<0." ++ integer_to_list(rand:uniform(32767)) ++ "." ++
                         integer_to_list(rand:uniform(100)) ++ ">");
        3 -> ext(88, [<<(rand:uniform(32767)):32, (rand:uniform(8191)):32>>])
    end.

ref() ->
    case rand:uniform(3) of
        1 -> make_ref();
        2 -> alias();
        3 -> N = rand:uniform(3),
             binary_to_term(<<131, 90, N:16,
                              (atom_ext(pick(['other@host', 'a@b'])))/binary,
                              (rand:uniform(3)):32,
                              << <<(rand:uniform(1 bsl 32) - 1):32>> || _ <- lists:seq(1, N) >>/binary>>)
    end.

port() ->
    case rand:uniform(3) of
        1 -> hd(erlang:ports());
        2 -> ext(89, [<<(rand:uniform(1000)):32>>]);
        3 -> binary_to_term(<<131, 120, (atom_ext(pick(['other@host', 'a@b'])))/binary,
                              (rand:uniform(1 bsl 40)):64, (rand:uniform(3)):32>>)
    end.

%% A pid or port of another node: tag, node, fields, creation.
ext(Tag, Fields) ->
    binary_to_term(iolist_to_binary([131, Tag, atom_ext(node_name()), Fields,
                                     <<(creation()):32>>])).

creation() ->
    case node_name() of
        'nonode@nohost' -> 0;
        _ -> rand:uniform(3)
    end.

atom_ext(A) ->
    B = atom_to_binary(A, utf8),
    <<119, (byte_size(B)), B/binary>>.

export() ->
    pick([fun lists:map/2, fun lists:filter/2, fun erlang:abs/1, fun lists:map/1]).

closure(T) ->
    case rand:uniform(3) of
        1 -> fun(X) -> {X, T} end;
        2 -> fun(X, Y) -> [X, Y, T] end;
        3 -> fun() -> ok end
    end.
