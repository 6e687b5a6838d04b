#!/usr/bin/env escript
%%! +pc unicode
%% The live text oracle: Erlang/OTP checks straw's text form both ways.
%%
%%   escript term_text_oracle.erl DRIVER WORKDIR
%%
%% 1. erl generates random terms of every kind (integers of every size,
%%    floats, Latin-1 and other atoms, binaries, bit binaries, strings,
%%    nested tuples, lists, improper lists, maps small and large, pids,
%%    references, ports, export funs, closures), encodes each with term_to_binary
%%    (random options: compressed, minor versions, deterministic); straw
%%    prints each as text (and checks it parses back to the canonical
%%    bytes); erl reads straw's text with erl_scan:string, erl_parse:
%%    parse_exprs and erl_eval:exprs and checks the value =:= the term.
%% 2. For the terms without pids, references and ports, erl prints the
%%    text (~0p, ~0tp, ~w, ~tw); straw parses it and must produce the bytes
%%    of term_to_binary(T, [{minor_version,2}]) (for maps of more than 32
%%    keys, which OTP orders by hash, straw_term_equal instead); erl also
%%    checks binary_to_term of straw's bytes =:= the term.
%%
%% The seed is printed; STRAW_ORACLE_SEED changes it, STRAW_ORACLE_TERMS
%% the number of random terms (default 1200).
-mode(compile).

main([Driver, Dir]) ->
    Seed = list_to_integer(os:getenv("STRAW_ORACLE_SEED", "20261121")),
    N = list_to_integer(os:getenv("STRAW_ORACLE_TERMS", "1200")),
    io:format("term_text_oracle: seed ~p (STRAW_ORACLE_SEED), ~p random "
              "terms (STRAW_ORACLE_TERMS)~n", [Seed, N]),
    rand:seed(exsss, {Seed, Seed bxor 16#5DEECE66D, 16#1234567}),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Terms = fixed() ++ [gen(4) || _ <- lists:seq(1, N)],
    F1 = straw_prints(Driver, Dir, Terms),
    Plain = [T || T <- Terms, plain(T)],
    F2 = straw_parses(Driver, Dir, Plain),
    io:format("term_text_oracle: ~p terms printed by straw and read back "
              "by erl, ~p texts printed by erl and read by straw, "
              "~p failures~n", [length(Terms), length(Plain), F1 + F2]),
    case F1 + F2 of
        0 -> halt(0);
        _ -> halt(1)
    end;
main(_) ->
    io:format("usage: term_text_oracle.erl DRIVER WORKDIR~n"),
    halt(2).

%% ---- direction 1: straw prints, erl reads ----

straw_prints(Driver, Dir, Terms) ->
    In = filename:join(Dir, "print.in"),
    Out = filename:join(Dir, "print.out"),
    Encoded = [term_to_binary(T, random_opts()) || T <- Terms],
    ok = file:write_file(In, [[binary:encode_hex(B), $\n] || B <- Encoded]),
    ok = run(Driver, ["print", In, Out]),
    Results = lines(Out),
    length(Results) =:= length(Terms) orelse
        fail_count("print: ~p results for ~p terms", [length(Results),
                                                        length(Terms)]),
    count(fun({T, B, R}) -> check_print(T, B, R) end,
          lists:zip3(Terms, Encoded, Results)).

check_print(T, B, <<"ok ", Hex/binary>>) ->
    Text = binary:decode_hex(Hex),
    try erl_value(Text) of
        V when V =:= T -> ok;
        V -> {fail, "erl reads straw's text ~ts as ~0tp, not ~0tp (~w)",
              [Text, V, T, B]}
    catch C:E ->
        {fail, "erl cannot read straw's text ~ts for ~0tp: ~p:~p",
         [Text, T, C, E]}
    end;
check_print(T, B, Error) ->
    {fail, "straw print of ~0tp (~w): ~s", [T, B, Error]}.

erl_value(Text) ->
    Chars = unicode:characters_to_list(Text),
    {ok, Tokens, _} = erl_scan:string(Chars ++ ". "),
    {ok, Exprs} = erl_parse:parse_exprs(Tokens),
    {value, V, _} = erl_eval:exprs(Exprs, erl_eval:new_bindings()),
    V.

%% ---- direction 2: erl prints, straw reads ----

straw_parses(Driver, Dir, Terms) ->
    In = filename:join(Dir, "parse.in"),
    Out = filename:join(Dir, "parse.out"),
    Items = [begin
                 Fmt = lists:nth(rand:uniform(4), ["~0p", "~0tp", "~w",
                                                   "~tw"]),
                 Text = unicode:characters_to_binary(io_lib:format(Fmt, [T])),
                 Mode = case big_map(T) of true -> $e; false -> $b end,
                 {T, Text, Mode}
             end || T <- Terms],
    ok = file:write_file(In, [[Mode, $\s, binary:encode_hex(Text), $\s,
                               binary:encode_hex(term_to_binary(
                                   T, [{minor_version, 2}])), $\n]
                              || {T, Text, Mode} <- Items]),
    ok = run(Driver, ["parse", In, Out]),
    Results = lines(Out),
    length(Results) =:= length(Items) orelse
        fail_count("parse: ~p results for ~p texts", [length(Results),
                                                        length(Items)]),
    count(fun({{T, Text, _}, R}) -> check_parse(T, Text, R) end,
          lists:zip(Items, Results)).

check_parse(T, Text, <<"ok ", Hex/binary>>) ->
    case binary_to_term(binary:decode_hex(Hex)) of
        T2 when T2 =:= T -> ok;
        T2 -> {fail, "straw reads ~ts as ~0tp", [Text, T2]}
    end;
check_parse(_T, Text, Error) ->
    {fail, "straw parse of ~ts: ~s", [Text, Error]}.

%% ---- helpers ----

run(Driver, Args) ->
    Port = open_port({spawn_executable, Driver},
                     [{args, Args}, exit_status, stderr_to_stdout, binary]),
    wait(Port, []).

wait(Port, Acc) ->
    receive
        {Port, {data, D}} -> wait(Port, [D | Acc]);
        {Port, {exit_status, 0}} -> ok;
        {Port, {exit_status, S}} ->
            io:format("driver exited with ~p: ~s~n", [S, lists:reverse(Acc)]),
            halt(1)
    after 120000 ->
        io:format("driver timed out~n"),
        halt(1)
    end.

lines(File) ->
    {ok, B} = file:read_file(File),
    [L || L <- binary:split(B, <<"\n">>, [global]), L =/= <<>>].

count(Check, Items) ->
    lists:foldl(fun(I, Fails) ->
                        case Check(I) of
                            ok -> Fails;
                            {fail, Fmt, Args} ->
                                Fails < 20 andalso
                                    io:format("FAIL: " ++ Fmt ++ "~n", Args),
                                Fails + 1
                        end
                end, 0, Items).

fail_count(Fmt, Args) ->
    io:format("FAIL: " ++ Fmt ++ "~n", Args),
    halt(1).

random_opts() ->
    lists:nth(rand:uniform(7), [[], [compressed], [{compressed, 1}],
                                [{minor_version, 0}], [{minor_version, 1}],
                                [{minor_version, 2}], [deterministic]]).

%% No pids, references or ports (erl prints those as <0.1.2> etc.).
plain(T) when is_pid(T); is_reference(T); is_port(T) -> false;
plain(T) when is_function(T) -> erlang:fun_info(T, type) =:= {type, external};
plain([H | T]) -> plain(H) andalso plain(T);
plain(T) when is_tuple(T) -> plain(tuple_to_list(T));
plain(T) when is_map(T) -> plain(maps:to_list(T));
plain(_) -> true.

big_map(T) when is_map(T) ->
    map_size(T) > 32 orelse big_map(maps:to_list(T));
big_map([H | T]) -> big_map(H) orelse big_map(T);
big_map(T) when is_tuple(T) -> big_map(tuple_to_list(T));
big_map(_) -> false.

%% ---- terms ----

fixed() ->
    [0, 255, 256, -1, 2147483647, -2147483648, 1 bsl 64, -(1 bsl 64),
     1 bsl 2040, 1.5, -0.0, 0.0, 1.0e300, 5.0e-324, 0.1, 1.0e15, 1.0e16,
     123456789.0, 9007199254740993.0, 1.0e-5, 0.0001, ok, '', true,
     'hello world', 'ünïcödé', '日本語', 'and', 'end', 'Ok', '_x', 'a\'b',
     'a\\b', 'a\nb', [], "abc", [1, 2, 3], [1000, 2000], "日本", [a | b],
     [1, 2 | 3], [[[[[]]]]], {}, {a, 1, <<"b">>}, <<>>, <<1, 2, 3>>,
     <<"日本"/utf8>>, <<1, 2:3>>, <<5:3>>, #{}, #{a => 1, <<"k">> => [x]},
     #{1 => #{2 => #{}}}, maps:from_list([{I, I} || I <- lists:seq(1, 33)]),
     #{1 => a, 1.0 => b}, fun lists:map/2, fun erlang:'+'/2, self(),
     make_ref(), list_to_pid("<0.85.0>"), lists:seq(1, 300),
     list_to_tuple(lists:seq(1, 256)), [127], [128], [8, 9, 10, 11, 12, 13, 27],
     "\"\\'", 'with space', '\x{1}', [16#D7FF, 16#E000, 16#FFFD, 16#10FFFF],
     [16#FFFE], <<200, 201>>, <<"\"\\">>, erlang:make_tuple(3, []),
     fun(X) -> X + 1 end, adder(7), {adder(-1), [adder(2)]}].

%% A closure with a free variable (NEW_FUN_EXT carries it).
adder(Y) -> fun(X) -> X + Y end.

gen(0) -> scalar();
gen(D) ->
    case rand:uniform(12) of
        1 -> list_to_tuple([gen(D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        2 -> [gen(D - 1) || _ <- lists:seq(1, rand:uniform(5))];
        3 -> lists:foldl(fun(E, Acc) -> [E | Acc] end, improper_tail(),
                         [gen(D - 1) || _ <- lists:seq(1, rand:uniform(4))]);
        4 -> maps:from_list([{gen(D - 1), gen(D - 1)}
                             || _ <- lists:seq(1, rand:uniform(6) - 1)]);
        5 when D >= 3 ->
            maps:from_list([{gen(0), gen(0)}
                            || _ <- lists:seq(1, 30 + rand:uniform(20))]);
        _ -> scalar()
    end.

improper_tail() ->
    case rand:uniform(3) of
        1 -> atom();
        2 -> integer();
        3 -> binary()
    end.

scalar() ->
    case rand:uniform(15) of
        1 -> integer();
        2 -> integer();
        3 -> float();
        4 -> float();
        5 -> atom();
        6 -> atom();
        7 -> binary();
        8 -> bitstring();
        9 -> string();
        10 -> pid();
        11 -> ref();
        12 -> port();
        13 -> lists:nth(rand:uniform(3), [fun lists:map/2, fun erlang:'+'/2,
                                          fun 'weird mod':'f-n'/0]);
        14 -> {};
        15 -> []
    end.

integer() ->
    Sign = case rand:uniform(2) of 1 -> 1; 2 -> -1 end,
    Sign * case rand:uniform(6) of
               1 -> rand:uniform(256) - 1;
               2 -> rand:uniform(1 bsl 31);
               3 -> rand:uniform(1 bsl 32) + (1 bsl 31);
               4 -> rand:uniform(1 bsl 64);
               5 -> rand:uniform(1 bsl (64 + rand:uniform(2000)));
               6 -> 1 bsl rand:uniform(3000)
           end.

float() ->
    case rand:uniform(4) of
        1 ->
            <<Bits:64>> = crypto_bytes(8),
            try <<F/float>> = <<Bits:64>>, F catch _:_ -> 1.0 end;
        2 -> (rand:uniform() - 0.5) * math:pow(10, rand:uniform(40) - 20);
        3 -> float(rand:uniform(1 bsl 60)) * lists:nth(rand:uniform(2), [1, -1]);
        4 -> lists:nth(rand:uniform(6), [0.0, -0.0, 5.0e-324, 1.0e300,
                                         2.2250738585072014e-308,
                                         1.7976931348623157e308])
    end.

atom() ->
    case rand:uniform(5) of
        1 -> list_to_atom([rand:uniform(256) - 1
                           || _ <- lists:seq(1, rand:uniform(12) - 1)]);
        2 -> list_to_atom([unicode_char() || _ <- lists:seq(1, rand:uniform(8))]);
        3 -> lists:nth(rand:uniform(8), ['and', 'of', 'fun', 'maybe', 'else',
                                         'Upper', '_under', 'a.b']);
        _ -> list_to_atom([$a + rand:uniform(26) - 1
                           || _ <- lists:seq(1, rand:uniform(10))])
    end.

unicode_char() ->
    case rand:uniform(4) of
        1 -> 16#100 + rand:uniform(16#6FF);
        2 -> 16#4E00 + rand:uniform(16#5000);
        3 -> 16#1F600 + rand:uniform(16#4F);
        4 -> rand:uniform(16#7E)
    end.

binary() ->
    case rand:uniform(3) of
        1 -> crypto_bytes(rand:uniform(24) - 1);
        2 -> list_to_binary([31 + rand:uniform(95)
                             || _ <- lists:seq(1, rand:uniform(20))]);
        3 -> unicode:characters_to_binary([unicode_char()
                                           || _ <- lists:seq(1, rand:uniform(8))])
    end.

bitstring() ->
    N = rand:uniform(7),
    B = binary(),
    <<B/binary, (rand:uniform(1 bsl N) - 1):N>>.

string() ->
    case rand:uniform(3) of
        1 -> [31 + rand:uniform(95) || _ <- lists:seq(1, rand:uniform(20))];
        2 -> [unicode_char() || _ <- lists:seq(1, rand:uniform(10))];
        3 -> [rand:uniform(16#110000) - 1 || _ <- lists:seq(1, rand:uniform(5))]
    end.

node_name() ->
    lists:nth(rand:uniform(3), [<<"nonode@nohost">>, <<"other@host">>,
                                <<"n@127.0.0.1">>]).

pid() ->
    case rand:uniform(3) of
        1 -> self();
        _ ->
            Node = node_name(),
            binary_to_term(<<131, 88, 119, (byte_size(Node)), Node/binary,
                             (rand:uniform(32768) - 1):32,
                             (rand:uniform(8192) - 1):32,
                             (rand:uniform(1 bsl 32) - 1):32>>)
    end.

ref() ->
    case rand:uniform(3) of
        1 -> make_ref();
        _ ->
            Node = node_name(),
            binary_to_term(<<131, 90, 0, 3, 119, (byte_size(Node)),
                             Node/binary, (rand:uniform(1 bsl 32) - 1):32,
                             (rand:uniform(1 bsl 18) - 1):32,
                             (rand:uniform(1 bsl 32) - 1):32,
                             (rand:uniform(1 bsl 32) - 1):32>>)
    end.

port() ->
    Node = node_name(),
    case rand:uniform(2) of
        1 -> binary_to_term(<<131, 89, 119, (byte_size(Node)), Node/binary,
                              (rand:uniform(1 bsl 28) - 1):32,
                              (rand:uniform(1 bsl 32) - 1):32>>);
        2 -> binary_to_term(<<131, 120, 119, (byte_size(Node)), Node/binary,
                              (rand:uniform(1 bsl 40) + (1 bsl 32)):64,
                              (rand:uniform(1 bsl 32) - 1):32>>)
    end.

%% Random bytes from the seeded generator (reproducible, unlike crypto).
crypto_bytes(N) ->
    list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, N)]).
